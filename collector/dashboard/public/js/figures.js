import { getJson } from './api.js'
import { addMessages } from './i18n.js'

/*
 * The figures of the reports as the collector defines them (GET /api/v1/reports/meta): key,
 * unit, basis, where each is listed, and its names, which join the dictionaries under the label
 * keys the meta reply gives. Read once per page load, before the first page is drawn.
 */
let figures = []
let failure = null

export async function loadFigures () {
  const res = await getJson('/api/v1/reports/meta')
  if (!res.ok) { failure = res; return }
  figures = res.data.figures
  for (const lang of ['vi', 'en']) {
    addMessages(lang, Object.fromEntries(figures.flatMap((f) => [[f.labelKey, f.label[lang]], [f.helpKey, f.help[lang]]])))
  }
}

/** The reply that failed, when the registry could not be read; the page says so instead of drawing no figures. */
export function figuresProblem () { return failure }

/** The figures listed in one view ('headline', 'byClass', 'agent'), in the collector's order. */
export function figuresIn (view) {
  return figures.filter((f) => f.views.includes(view))
}
