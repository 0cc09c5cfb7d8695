import { percentilesInPlace } from '../aggregation/float-blob.js'
import { TIME_BAND_LABELS } from '../aggregation/time-bands.js'
import { cell, type AgentAggregate, type Cell } from './figures.js'
import type { ReportRules } from './rules.js'

/**
 * "80/80 consistent speed" as FCC Measuring Broadband America defines it: per ISP and speed tier,
 * the share of the advertised speed that at least 80 % of panelists get for at least 80 % of the
 * peak period. Per line: the 20th percentile of its peak-period samples divided by its plan speed;
 * per ISP and plan tier: the 20th percentile of those ratios across lines (docs/reports.md §2).
 *
 * Peak period: MBA's is 19:00–23:00 on weeknights because its panel is households; agency lines
 * are busiest in office hours, so ours is the office band (TIME_BAND_LABELS.office).
 */
export const PEAK_PERIOD = { band: 'office', label: TIME_BAND_LABELS.office } as const

export interface Consistent8080 {
  isp: string
  connectionClass: string
  /** The tier: the plan's download speed, Mbps. */
  planDownMbps: number
  /** Lines of this ISP and tier with enough peak-period samples, and all of them. */
  agents: number
  agentsInTier: number
  /** Share of the plan speed (0..1); basis agents, published with ≥ minAgents lines. */
  shareOfPlan: Cell
  /** The same in Mbps (shareOfPlan × plan), for readers who want the absolute figure. */
  mbps: Cell
}

export interface Mba8080 {
  peakPeriod: typeof PEAK_PERIOD
  tiers: Consistent8080[]
  /** Lines left out because their plan speed is not recorded (no tier to compare with). */
  withoutPlan: number
}

export function mba8080 (agents: readonly AgentAggregate[], planOf: (agencyId: string) => number | null, rules: ReportRules): Mba8080 {
  const groups = new Map<string, { isp: string, connectionClass: string, plan: number, all: number, ratios: number[] }>()
  let withoutPlan = 0
  for (const a of agents) {
    const plan = planOf(a.agencyId)
    if (plan === null || plan <= 0) { withoutPlan++; continue }
    const key = `${a.isp}\u0000${a.connectionClass}\u0000${plan}`
    let g = groups.get(key)
    if (g === undefined) { g = { isp: a.isp, connectionClass: a.connectionClass, plan, all: 0, ratios: [] }; groups.set(key, g) }
    g.all++
    if (a.officeN >= rules.minBusyHourSamplesPerAgent && a.officeP20 !== null) g.ratios.push(a.officeP20 / plan)
  }
  const tiers = [...groups.values()].map((g): Consistent8080 => {
    const share = percentilesInPlace(Float64Array.from(g.ratios), [20])[0] ?? null
    return {
      isp: g.isp,
      connectionClass: g.connectionClass,
      planDownMbps: g.plan,
      agents: g.ratios.length,
      agentsInTier: g.all,
      shareOfPlan: cell(share, g.ratios.length, rules.minAgents, 'agents', 4),
      mbps: cell(share === null ? null : share * g.plan, g.ratios.length, rules.minAgents, 'agents')
    }
  }).sort((x, y) => x.isp.localeCompare(y.isp) || x.connectionClass.localeCompare(y.connectionClass) || x.planDownMbps - y.planDownMbps)
  return { peakPeriod: PEAK_PERIOD, tiers, withoutPlan }
}
