import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Value } from '@sinclair/typebox/value'
import { FIGURE_KEYS, FIGURES, figuresIn, UNIT_VI } from '../../collector/reports/figure-registry.js'
import { computeGroup } from '../../collector/reports/figures.js'
import { FiguresSchema, ReportsMetaSchema } from '../../collector/reports/schemas.js'
import { reportsMeta } from '../../collector/reports/meta.js'
import { areaTable } from '../../collector/exports/table.js'
import { FIGURE_VI } from '../../collector/reports/labels-vi.js'
import { DEFAULT_REPORT_RULES, type ReportRules } from '../../collector/reports/rules.js'
import type { AreaRow } from '../../collector/reports/areas-report.js'

const RULES: ReportRules = { ...DEFAULT_REPORT_RULES, minRepresentativeSamples: 7, minAgents: 3 }

/** Every source file of the collector, with its text. */
function sources (dir: string): Array<{ path: string, text: string }> {
  const out: Array<{ path: string, text: string }> = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (name === 'vendor' || name === 'node_modules') continue
    if (statSync(path).isDirectory()) out.push(...sources(path))
    else if (/\.(ts|js)$/.test(name)) out.push({ path, text: readFileSync(path, 'utf8') })
  }
  return out
}

describe('the figure registry is the one list of figures', () => {
  it('the report computes exactly the registry\'s figures, in its order, each with its basis and publication minimum', () => {
    const { figures } = computeGroup([], RULES)
    expect(Object.keys(figures)).toEqual(FIGURE_KEYS)
    for (const f of FIGURES) {
      expect(figures[f.key].basis, f.key).toBe(f.basis)
      expect(figures[f.key].minN, f.key).toBe(RULES[f.minimum])
      expect(figures[f.key].status, f.key).toBe('no_data')
    }
    // Both kinds of minimum are in use, so the test above tells them apart.
    expect(new Set(FIGURES.map((f) => f.minimum))).toEqual(new Set(['minRepresentativeSamples', 'minAgents']))
  })

  it('the reply schema lists one cell per registry figure and accepts what the report computes', () => {
    expect(Object.keys((FiguresSchema as unknown as { properties: Record<string, unknown> }).properties)).toEqual(FIGURE_KEYS)
    const { figures } = computeGroup([], RULES)
    expect(Value.Check(FiguresSchema, figures)).toBe(true)
    // A cell missing a field is refused: the schema is not a pass-through.
    const broken = { ...figures, downloadMean: { value: null, n: 0 } }
    expect(Value.Check(FiguresSchema, broken)).toBe(false)
  })

  it('the meta reply is the registry, with the minimums in force', () => {
    const meta = reportsMeta(RULES)
    expect(Value.Check(ReportsMetaSchema, meta)).toBe(true)
    expect(meta.figures.map((f) => f.key)).toEqual(FIGURE_KEYS)
    for (const [i, f] of FIGURES.entries()) {
      expect(meta.figures[i]).toEqual({
        key: f.key,
        unit: f.unit,
        basis: f.basis,
        minimum: { rule: f.minimum, value: RULES[f.minimum] },
        digits: f.digits,
        views: [...f.views],
        labelKey: `figure.${f.key}`,
        helpKey: `figureHelp.${f.key}`,
        label: f.label,
        help: f.help
      })
    }
  })

  it('the export has three columns per registry figure, named by its Vietnamese label and unit, in registry order', () => {
    const row: AreaRow = {
      area: { level: 'legacy_district', version: '2025-03', code: '608', name: 'Kon Tum', fullName: 'Thành phố Kon Tum' },
      split: null,
      coverage: { agentsEnrolled: 0, agentsReporting: 0, agencies: 0, results: 0, speedTests: 0, validTests: 0, skipped: 0, representativeSamples: 0 },
      figures: computeGroup([], RULES).figures,
      targets: []
    }
    const t = areaTable('x', [row], [])
    const named = FIGURES.map((f) => `${f.label.vi} (${UNIT_VI[f.unit]})`)
    const at = t.headings.indexOf(named[0] as string)
    expect(at).toBeGreaterThan(0)
    expect(t.headings.slice(at, at + 3 * FIGURES.length)).toEqual(named.flatMap((h) => [h, `${h} – số mẫu (n)`, `${h} – tình trạng`]))
    expect(t.headings).toHaveLength(at + 3 * FIGURES.length)
    expect(t.rows[0]).toHaveLength(t.headings.length)
    expect(FIGURE_VI).toEqual(Object.fromEntries(FIGURES.map((f) => [f.key, f.label.vi])))
  })

  it('every view lists registry figures only, and the headline is what the dashboard and the official report show', () => {
    expect(figuresIn('headline')).toEqual(['downloadMean', 'downloadMedian', 'uploadMean', 'uploadMedian', 'idleLatencyMedianMs', 'agentMedianOfMedians', 'busyHour8080'])
    expect(figuresIn('byClass')).toEqual(['downloadMean', 'downloadMedian', 'uploadMean', 'uploadMedian'])
    expect(figuresIn('agent')).toEqual(['downloadMean', 'downloadMedian', 'uploadMean', 'uploadMedian', 'idleLatencyMedianMs'])
  })

  it('no other file of the collector writes out a list of figure keys, and the dashboard\'s dictionaries do not name them', async () => {
    // The registry lists them; the computation (figures.ts) names each once to fill it. Elsewhere a
    // file may name a figure it uses on its own (the trend's mean and median), never a list.
    const literal = new RegExp(`['"\`](${FIGURE_KEYS.join('|')})['"\`]`, 'g')
    const lists = sources('collector')
      .filter((s) => !/reports[\\/](figure-registry|figures)\.ts$/.test(s.path))
      .map((s) => ({ path: s.path, keys: [...new Set([...s.text.matchAll(literal)].map((m) => m[1]))] }))
      .filter((s) => s.keys.length > 2)
    expect(lists).toEqual([])
    for (const lang of ['vi', 'en']) {
      const dict = ((await import(pathToFileURL(`collector/dashboard/public/js/i18n/${lang}.js`).href)) as { default: Record<string, string> }).default
      expect(Object.keys(dict).filter((k) => FIGURE_KEYS.some((f) => k === `figure.${f}` || k === `figureHelp.${f}`)), lang).toEqual([])
    }
    // The Vietnamese names carry no English word for a measure.
    for (const f of FIGURES) expect(`${f.label.vi} ${f.help.vi}`, f.key).not.toMatch(/\b(mean|median|latency)\b/i)
  })
})
