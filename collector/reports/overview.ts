import type { ReportStores } from './rollup-reader.js'
import { areaRows, levelNotes, type AreaRow } from './areas-report.js'
import { AREA_LEVELS, VERSION_LEVELS, type GeoVersion } from '../storage/area-levels.js'
import { addMonths, vnMonth } from '../../shared/vn-time.js'
import { computeGroup, type Cell } from './figures.js'
import { readMonthRows } from './rollup-reader.js'
import { monthRange, type Period } from '../../shared/period.js'
import { describeRules, type ReportRules } from './rules.js'
import { mba8080 } from './mba8080.js'
import type { OverviewReport } from './schemas.js'

export interface OverviewQuery { province: string, version: GeoVersion, period: Period, rules: ReportRules, now?: number }

/**
 * The province overview: the province row (with its targets), the same split by connection
 * class, the sub-areas whose published target figure is not met, and the last 12 months'
 * median for a sparkline. Current provinces list communes; former provinces list legacy districts.
 */
export async function overviewReport (stores: ReportStores, q: OverviewQuery): Promise<OverviewReport> {
  const { province: topLevel, area: subLevel } = VERSION_LEVELS[q.version]
  const top = await areaRows(stores, { level: topLevel, province: q.province, code: q.province, period: q.period, split: 'connection_class', rules: q.rules, now: q.now })
  const total = top.rows.find((r) => r.split === null) as AreaRow
  const sub = await areaRows(stores, { level: subLevel, province: q.province, period: q.period, rules: q.rules, now: q.now })
  const lagging = sub.rows.flatMap((r) => r.targets
    .filter((t) => t.met === false && !t.horizon)
    .map((t) => ({ area: r.area, targetId: t.targetId, document: t.document, statistic: t.statistic, figure: t.figure, thresholdMbps: t.thresholdMbps, requiredShare: t.requiredShare })))

  const end = q.period.to ?? vnMonth(q.now ?? Date.now())
  const months = monthRange(addMonths(end, -11), end)
  const column = AREA_LEVELS[topLevel].provinceColumn
  const monthRows = await readMonthRows(stores.rollups, { column, code: q.province }, { kind: 'rolling12', from: months[0] ?? end, to: end, months })
  const series = months.map((month) => {
    const g = computeGroup(monthRows.filter((r) => r.month === month), q.rules)
    return { month, downloadMedian: g.figures.downloadMedian as Cell, downloadMean: g.figures.downloadMean as Cell, agentsReporting: g.coverage.agentsReporting }
  })
  const plans = new Map(await stores.rollups.agencyPlans())
  const lines = top.groups.get(q.province)?.agents ?? []
  return {
    report: 'overview',
    province: top.province,
    period: q.period,
    generatedAt: new Date(q.now ?? Date.now()).toISOString(),
    rules: describeRules(q.rules),
    notes: levelNotes(topLevel),
    total,
    byConnectionClass: top.rows.filter((r) => r.split !== null),
    targets: total.targets,
    lagging,
    // FCC MBA's 80/80 per ISP and plan tier, as a share of the plan speed over the peak period;
    // total.figures.busyHour8080 stays beside it as the absolute figure over every line.
    consistentSpeed: mba8080(lines, (id) => plans.get(id) ?? null, q.rules),
    agencies: { enrolled: await stores.rollups.enrolledAgencies(column, q.province), reporting: total.coverage.agencies },
    months: series
  }
}
