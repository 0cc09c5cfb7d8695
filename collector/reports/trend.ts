import type { ReportStores } from './rollup-reader.js'
import { TocdoError } from '../../shared/errors.js'
import { addMonths, vnMonth } from '../../shared/vn-time.js'
import { areaRows, type Level, type Split } from './areas-report.js'
import { monthRange } from '../../shared/period.js'
import { describeRules, type ReportRules } from './rules.js'
import type { TrendReport } from './schemas.js'

export interface TrendQuery { level: Level, code: string, province?: string | undefined, months: number, end?: string | undefined, split?: Split | undefined, rules: ReportRules, now?: number }

/** Monthly series for charts, oldest first; months with no data are present with no_data cells. */
export async function trendReport (stores: ReportStores, q: TrendQuery): Promise<TrendReport> {
  if (!Number.isInteger(q.months) || q.months < 1 || q.months > 36) {
    throw new TocdoError('TOCDO_ERR_VALIDATION', `months must be an integer from 1 to 36, got ${q.months}`, { details: { field: 'months' } })
  }
  const province = q.province ?? await provinceOf(stores, q.level, q.code)
  const end = q.end ?? vnMonth(q.now ?? Date.now())
  const months = monthRange(addMonths(end, -(q.months - 1)), end)
  const series = new Map<string, TrendReport['series'][number]>()
  let area: TrendReport['area'] = null
  for (const month of months) {
    const { rows } = await areaRows(stores, { level: q.level, province, code: q.code, period: { kind: 'month', from: month, to: month, months: [month] }, split: q.split, rules: q.rules, now: q.now })
    for (const r of rows) {
      area = r.area
      const key = r.split === null ? '' : r.split.value
      const s = series.get(key) ?? { split: r.split, points: [] }
      s.points.push({ month, coverage: r.coverage, figures: r.figures })
      series.set(key, s)
    }
  }
  // A split value that appears only in some months still gets a point for every month.
  for (const s of series.values()) {
    const have = new Set(s.points.map((p) => p.month))
    for (const m of months) if (!have.has(m)) s.points.push({ month: m, coverage: null, figures: null })
    s.points.sort((a, b) => a.month.localeCompare(b.month))
  }
  return { report: 'trend', area, months, split: q.split ?? null, rules: describeRules(q.rules), series: [...series.values()] }
}

/** The province an area code belongs to at its level (codes are unique within a geography version). */
export async function provinceOf (stores: ReportStores, level: Level, code: string): Promise<string> {
  const p = await stores.geo.provinceOfArea(level, code)
  if (p === undefined) throw new TocdoError('TOCDO_ERR_UNKNOWN_AREA', `code=${code} is not a ${level.replace('_', ' ')} code`, { details: { field: 'code' } })
  return p
}
