import { h } from '../dom.js'
import { t, formatMonth } from '../i18n.js'

/** Page title with the area it covers, saying plainly when it is a legacy analysis region. */
export function pageHeading (ctx, key) {
  const { state, provinceName } = ctx
  const area = isLegacy(state)
    ? t('area.legacyProvince', { name: provinceName, code: state.province })
    : t('area.currentProvince', { name: provinceName, code: state.province })
  return h('header', { class: 'page-head' },
    h('h1', { id: 'page-title', text: t(`page.${key}`) }),
    h('p', { class: 'area-line', text: area }))
}

export function periodLine (period) {
  if (period === null || period === undefined) return null
  let text
  if (period.kind === 'rolling12') text = t('period.rollingRange', { from: formatMonth(period.from), to: formatMonth(period.to) })
  else if (period.kind === 'all') text = t('period.all')
  else if (period.kind === 'month') text = t('period.month', { month: formatMonth(period.from ?? period.id) })
  else text = period.id ?? ''
  return h('p', { class: 'period-line', text: `${t('controls.period')}: ${text}` })
}

// The area levels of each geography version come from the server's registry (context.json).
let versions = {}

export function setAreaLevels (areaLevels) { versions = areaLevels ?? {} }

export function areaLevel (state) { return versions[state.version]?.area }

export function provinceLevel (state) { return versions[state.version]?.province }

/** The registry's current geography version (legacy false) or its pre-reform one (legacy true). */
export function geoVersion (legacy) { return Object.keys(versions).find((v) => versions[v].legacy === legacy) }

/** A pre-reform (legacy) province: an analysis region, not an administrative unit. */
export function isLegacy (state) { return versions[state.version]?.legacy === true }

export function rulesNote (rules) {
  if (rules === null || rules === undefined) return null
  return h('p', { class: 'rules-note', text: t('rules.note', { minSamples: rules.minRepresentativeSamples, minAgents: rules.minAgents }) })
}
