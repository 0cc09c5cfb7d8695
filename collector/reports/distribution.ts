import type { ReportStores } from './rollup-reader.js'
import { lowerBound, mergeAll } from '../aggregation/float-blob.js'
import { areaRows, type Level } from './areas-report.js'
import { AREA_LEVELS } from '../storage/area-levels.js'
import type { Period } from '../../shared/period.js'
import type { ReportRules } from './rules.js'
import { provinceOf } from './trend.js'
import { readMonthRows } from './rollup-reader.js'
import { round } from '../../shared/units.js'
import type { DistributionReport } from './schemas.js'

/** Bin edges in Mbps: the national thresholds (40, 100, 200, 1000) fall on edges so a bar never straddles a target. */
export const DISTRIBUTION_EDGES_MBPS = [0, 10, 25, 40, 50, 100, 150, 200, 300, 500, 800, 1000] as const

export interface DistributionQuery { level: Level, code: string, period: Period, metric: 'download' | 'upload', connectionClass?: string | undefined, rules: ReportRules, now?: number }

/** Histogram of the area's representative samples, with the targets that apply drawn as lines. */
export async function distributionReport (stores: ReportStores, q: DistributionQuery): Promise<DistributionReport> {
  const province = await provinceOf(stores, q.level, q.code)
  const { rows } = await areaRows(stores, { level: q.level, province, code: q.code, period: q.period, rules: q.rules, now: q.now })
  const { provinceColumn: column, key } = AREA_LEVELS[q.level]
  const monthRows = (await readMonthRows(stores.rollups, { column, code: province }, q.period))
    .filter((r) => r[key] === q.code && (q.connectionClass === undefined || r.connectionClass === q.connectionClass))
  const values = mergeAll(monthRows.map((r) => (q.metric === 'download' ? r.repDown : r.repUp)))
  const edges = DISTRIBUTION_EDGES_MBPS
  const bins = edges.map((from, i) => {
    const to = edges[i + 1] ?? null
    const count = (to === null ? values.length : lowerBound(values, to)) - lowerBound(values, from)
    return { fromMbps: from, toMbps: to, count, share: values.length === 0 ? null : round(count / values.length, 4) }
  })
  const targets = (rows[0]?.targets ?? []).map((t) => ({ targetId: t.targetId, document: t.document, thresholdMbps: t.thresholdMbps, horizon: t.horizon }))
  return { report: 'distribution', area: rows[0]?.area ?? null, period: q.period, metric: q.metric, connectionClass: q.connectionClass ?? null, basis: 'representative_samples', n: values.length, bins, targets }
}
