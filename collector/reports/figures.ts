import { concat, countAtLeast, percentilesInPlace, Scratch, sumOf } from '../aggregation/float-blob.js'
import { round } from '../../shared/units.js'
import { scopeWords, targetWhy, targetsForLine, type OutOfScope, type SelectedTarget, type TargetEntry } from '../targets/targets.js'
import type { MonthRow } from './rollup-reader.js'
import type { ReportRules } from './rules.js'
import { FIGURE, type CellBasis, type FigureKey } from './figure-registry.js'

export type { CellBasis } from './figure-registry.js'
export interface Cell { value: number | null, n: number, minN: number, basis: CellBasis, status: 'ok' | 'insufficient_data' | 'no_data' }

/** A publishable figure: the value only when n reaches the minimum, n always. */
export function cell (value: number | null, n: number, minN: number, basis: CellBasis, digits = 2): Cell {
  const status = n === 0 || value === null ? 'no_data' : n < minN ? 'insufficient_data' : 'ok'
  return { value: status === 'ok' && value !== null ? round(value, digits) : null, n, minN, basis, status }
}

export interface Coverage {
  agentsEnrolled: number
  agentsReporting: number
  agencies: number
  results: number
  speedTests: number
  validTests: number
  skipped: number
  representativeSamples: number
}

/** One agent aggregated first (fleet-protocol.md §15 step 1), over the rows given. */
export interface AgentAggregate {
  agentId: string
  agencyId: string
  connectionClass: string
  /** The line's ISP (the latest month's, should it have changed). */
  isp: string
  legacyProvinceCode: string
  /** The agent's representative download samples, as the sorted per-month parts they are stored in. */
  parts: Float64Array[]
  /** Sample count and sum over all parts. */
  n: number
  sum: number
  officeN: number
  meanDown: number | null
  medianDown: number | null
  officeP20: number | null
  officeMedian: number | null
}

/** One cell per figure of the registry (figure-registry.ts): a figure missing here does not compile. */
export type AreaFigures = Record<FigureKey, Cell>

/**
 * Why a relevant line is not judged: outside the target's scope (seeds/targets.json "selection"),
 * or `local_link`: its only results are lower bounds set by the machine's own link, below what the
 * target asks (docs/methodology.md §11, "Results at the machine's link").
 */
export type LeftOutReason = OutOfScope['reason'] | 'local_link'

/** Lines relevant to a target but not judged against it, by reason. */
export interface LeftOut {
  agents: number
  agencies: number
  reasons: Array<{ reason: LeftOutReason, value: string, agents: number, agencies: number }>
}

export interface TargetEvaluation {
  targetId: string
  document: string
  issuer: string | null
  date: string | null
  section: string | null
  /** The target as the document states it. */
  line: string | null
  scope: string
  region: { version: string, code: string } | null
  year: number
  yearRule: SelectedTarget['yearRule']
  horizon: boolean
  status: string
  statistic: string
  thresholdMbps: number
  requiredShare: number | null
  /** Who the target counts: agency categories and, where the document says so, 2025 unit types or agencies in a high-tech zone. */
  appliesTo: { categories: string[], unitTypes: string[] | null, inHighTechZone: boolean, words: string }
  why: string
  /** Lines in scope with data, and their agencies. */
  agents: number
  agencies: number
  /** Relevant lines (right class and area) that the target's scope leaves out, and why. */
  leftOut: LeftOut
  /** Lines judged on a lower bound (their results reached the machine's link; docs/methodology.md §11): each counted as meeting the threshold. */
  linesAtLeast: number
  /** The judged figure: an i-Speed mean in Mbps, or a share of lines (0..1) meeting the threshold on their mean (or, for share_of_lines_min_at_least, their minimum); rounded for display. */
  figure: Cell
  /** The judged figure unrounded, when published: the verdict compares this, never the rounded value. */
  exact: number | null
  /** i-Speed area averages: the median of the same representative samples, shown beside the mean. */
  figureMedian?: Cell
  shareOfAgentsMeeting: Cell
  shareOfAgenciesMeeting: Cell
  shareOfSamplesMeeting: Cell
  attainment: { atLeast100: number | null, from80to100: number | null, below80: number | null, n: number, status: Cell['status'] }
  met: boolean | null
}

/** Raw (unpublished-threshold) numbers kept for the issue-2 district contract. */
export interface RawFigures {
  downloadMean: number | null
  downloadMedian: number | null
  uploadMean: number | null
  uploadMedian: number | null
  idleLatencyMedian: number | null
}

export interface GroupResult {
  coverage: Omit<Coverage, 'agentsEnrolled'>
  figures: AreaFigures
  raw: RawFigures
  agents: AgentAggregate[]
}

const meanOf = (s: Float64Array): number | null => (s.length === 0 ? null : sumOf(s) / s.length)

/** A line's lowest representative download sample over the rows read, null when it has none. */
function minOf (a: AgentAggregate): number | null {
  let min = Infinity
  for (const p of a.parts) for (const v of p) if (v < min) min = v
  return min === Infinity ? null : min
}

/**
 * The work arrays of computeGroup and pooledDown, reused from call to call (Scratch): each is
 * filled, reduced to figures and dropped within one synchronous call, and no figure keeps a view
 * of one.
 */
const SCRATCH = { down: new Scratch(), up: new Scratch(), idle: new Scratch(), office: new Scratch(), target: new Scratch() }

/** Aggregates per agent first, then over the area (fleet-protocol.md §15). `rows` are one area's (and split value's). */
export function computeGroup (rows: readonly MonthRow[], rules: ReportRules): GroupResult {
  const byAgent = new Map<string, MonthRow[]>()
  const agencies = new Set<string>()
  const cov = { agentsReporting: 0, agencies: 0, results: 0, speedTests: 0, validTests: 0, skipped: 0, representativeSamples: 0 }
  for (const r of rows) {
    cov.results += r.nResults
    cov.speedTests += r.nSpeed
    cov.validTests += r.nValid
    cov.skipped += r.nSkip
    cov.representativeSamples += r.repDown.length
    if (r.nResults > 0) agencies.add(r.agencyId)
    const list = byAgent.get(r.agentId)
    if (list === undefined) byAgent.set(r.agentId, [r])
    else list.push(r)
  }
  // Pooled arrays are allocated once and filled agent by agent; each agent's own figures are
  // selected in place on its slice (selection only reorders, and the pooled percentiles below do
  // not depend on order), so no sample is copied twice.
  let nUp = 0
  let nIdle = 0
  for (const r of rows) { nUp += r.repUp.length; nIdle += r.repIdle.length }
  const pooledDown = SCRATCH.down.take(cov.representativeSamples)
  const pooledUp = SCRATCH.up.take(nUp)
  const pooledIdle = SCRATCH.idle.take(nIdle)
  let atDown = 0
  let atUp = 0
  let atIdle = 0
  const agents: AgentAggregate[] = []
  for (const [agentId, list] of byAgent) {
    let reporting = false
    // The latest month's attributes describe the line (class and former province), should they have changed.
    let latest = list[0] as MonthRow
    const parts: Float64Array[] = []
    const officeParts: Float64Array[] = []
    const start = atDown
    for (const r of list) {
      if (r.nResults > 0) reporting = true
      if (r.month > latest.month) latest = r
      if (r.repDown.length > 0) {
        parts.push(r.repDown)
        if (r.band === 'office') officeParts.push(r.repDown)
        pooledDown.set(r.repDown, atDown); atDown += r.repDown.length
      }
      pooledUp.set(r.repUp, atUp); atUp += r.repUp.length
      pooledIdle.set(r.repIdle, atIdle); atIdle += r.repIdle.length
    }
    if (reporting) cov.agentsReporting++
    const all = pooledDown.subarray(start, atDown)
    const office = concat(officeParts, SCRATCH.office)
    const sum = sumOf(all)
    const [median] = percentilesInPlace(all, [50])
    const [officeP20, officeMedian] = percentilesInPlace(office, [20, 50])
    agents.push({
      agentId,
      agencyId: latest.agencyId,
      connectionClass: latest.connectionClass,
      isp: latest.isp,
      legacyProvinceCode: latest.legacyProvinceCode,
      parts,
      n: all.length,
      sum,
      officeN: office.length,
      meanDown: all.length === 0 ? null : sum / all.length,
      medianDown: median ?? null,
      officeP20: officeP20 ?? null,
      officeMedian: officeMedian ?? null
    })
  }
  cov.agencies = agencies.size
  // Pooled figures by selection: no sort of millions of samples.
  const downMean = meanOf(pooledDown)
  const [downP20, downMedian] = percentilesInPlace(pooledDown, [20, 50])
  const upMean = meanOf(pooledUp)
  const [upMedian] = percentilesInPlace(pooledUp, [50])
  const [idleMedian] = percentilesInPlace(pooledIdle, [50])
  const medians = Float64Array.from(agents.filter((a) => a.medianDown !== null).map((a) => a.medianDown as number))
  const busy = Float64Array.from(agents.filter((a) => a.officeN >= rules.minBusyHourSamplesPerAgent).map((a) => a.officeP20 as number))
  const raw: RawFigures = {
    downloadMean: downMean,
    downloadMedian: downMedian ?? null,
    uploadMean: upMean,
    uploadMedian: upMedian ?? null,
    idleLatencyMedian: idleMedian ?? null
  }
  // Basis, publication minimum and rounding come from the figure's registry entry.
  const publish = (key: FigureKey, value: number | null, n: number): Cell => {
    const spec = FIGURE[key]
    return cell(value, n, rules[spec.minimum], spec.basis, spec.digits)
  }
  return {
    coverage: cov,
    raw,
    agents,
    figures: {
      downloadMean: publish('downloadMean', raw.downloadMean, pooledDown.length),
      downloadMedian: publish('downloadMedian', raw.downloadMedian, pooledDown.length),
      downloadP20: publish('downloadP20', downP20 ?? null, pooledDown.length),
      uploadMean: publish('uploadMean', raw.uploadMean, pooledUp.length),
      uploadMedian: publish('uploadMedian', raw.uploadMedian, pooledUp.length),
      idleLatencyMedianMs: publish('idleLatencyMedianMs', raw.idleLatencyMedian, pooledIdle.length),
      agentMedianOfMedians: publish('agentMedianOfMedians', percentilesInPlace(medians, [50])[0] ?? null, medians.length),
      busyHour8080: publish('busyHour8080', percentilesInPlace(busy, [20])[0] ?? null, busy.length)
    }
  }
}

export interface TargetContext {
  entries: readonly TargetEntry[]
  year: number
  categoryOf: (agencyId: string) => string | undefined
  /** The 2025 unit type of the agency's commune ('phường', 'xã', 'đặc khu'), null when unknown. */
  unitTypeOf: (agencyId: string) => string | null
  /** The high-tech zone the agency is in, null when in none. */
  highTechZoneOf?: (agencyId: string) => string | null
  provinceName: (legacyCode: string) => string | undefined
  rules: ReportRules
  /** Each line's lower bound (Mbps) from its link-limited results in the period (link-limited.ts). */
  lowerBounds?: ReadonlyMap<string, number>
}

export interface AssignedTarget {
  selected: SelectedTarget
  why: string
  /** Lines in the target's scope. */
  agents: AgentAggregate[]
  /** Relevant lines outside its scope, keyed by reason and value. */
  outside: Map<string, { reason: LeftOutReason, value: string, agents: AgentAggregate[] }>
}

/** Which targets each agent is relevant to, in scope or not, memoised per line kind. */
export function assignTargets (agents: readonly AgentAggregate[], ctx: TargetContext): Map<string, AssignedTarget> {
  const memo = new Map<string, Array<{ selected: SelectedTarget, why: string }>>()
  const out = new Map<string, AssignedTarget>()
  for (const a of agents) {
    const category = ctx.categoryOf(a.agencyId)
    if (category === undefined) continue
    const unitType = ctx.unitTypeOf(a.agencyId)
    const highTechZone = ctx.highTechZoneOf?.(a.agencyId) ?? null
    const key = `${a.connectionClass}|${category}|${a.legacyProvinceCode}|${unitType ?? ''}|${highTechZone === null ? '' : 'zone'}`
    let list = memo.get(key)
    if (list === undefined) {
      const line = { connectionClass: a.connectionClass, category, unitType, highTechZone, legacyProvinceCode: a.legacyProvinceCode === '' ? null : a.legacyProvinceCode }
      list = targetsForLine(ctx.entries, line, ctx.year).map((selected) => ({
        selected,
        why: targetWhy(selected.entry, line, selected.yearRule, selected.entry.region === null ? undefined : ctx.provinceName(selected.entry.region.code))
      }))
      memo.set(key, list)
    }
    for (const t of list) {
      let slot = out.get(t.selected.entry.id)
      if (slot === undefined) {
        slot = { selected: { ...t.selected, outOfScope: null }, why: t.why, agents: [], outside: new Map() }
        out.set(t.selected.entry.id, slot)
      } else if (!slot.why.includes(t.why.split(':')[0] as string)) {
        // Different line kinds may reach the same target; keep one explanation naming both.
        slot.why = `${t.why.split(':')[0] as string}; ${slot.why}`
      }
      const o = t.selected.outOfScope
      if (o === null) { slot.agents.push(a); continue }
      const k = `${o.reason}|${o.value}`
      const bucket = slot.outside.get(k)
      if (bucket === undefined) slot.outside.set(k, { ...o, agents: [a] })
      else bucket.agents.push(a)
    }
  }
  return out
}

function leftOutOf (outside: AssignedTarget['outside']): LeftOut {
  const all = [...outside.values()]
  const agencies = (list: readonly AgentAggregate[]): number => new Set(list.map((a) => a.agencyId)).size
  return {
    agents: all.reduce((n, o) => n + o.agents.length, 0),
    agencies: agencies(all.flatMap((o) => o.agents)),
    reasons: all.map((o) => ({ reason: o.reason, value: o.value, agents: o.agents.length, agencies: agencies(o.agents) }))
      .sort((x, y) => `${x.reason}|${x.value}`.localeCompare(`${y.reason}|${y.value}`))
  }
}

/**
 * Judges the lines in a target's scope the way its statistic says (seeds/targets.json
 * "statistics"), on unrounded values: a mean of 79.996 Mbps does not meet 80. `outside` are the
 * relevant lines the scope leaves out; they are counted, never judged.
 */
export function evaluateTarget (selected: SelectedTarget, why: string, agents: readonly AgentAggregate[], rules: ReportRules,
  outside: AssignedTarget['outside'] = new Map(), lowerBounds: ReadonlyMap<string, number> = new Map(),
  pooledOf: (agents: readonly AgentAggregate[]) => PooledDown = pooledDown): TargetEvaluation {
  const t = selected.entry
  const thr = t.thresholdMbps as number
  const strict = t.statistic === 'share_of_lines_mean_above'
  const meets = (v: number): boolean => (strict ? v > thr : v >= thr)
  const perLine = t.statistic !== 'ispeed_area_mean_at_least'
  // A per-line minimum (high-tech zones, "at a minimum of 1 Gb/s"): each line's lowest
  // representative sample of the period, not its mean.
  const lineValue = t.statistic === 'share_of_lines_min_at_least' ? minOf : (a: AgentAggregate): number | null => a.meanDown
  // Lines with no counted result but link-limited ones (docs/methodology.md §11): under a per-line
  // target a lower bound that already meets the threshold counts as meeting it; otherwise the line
  // cannot be judged and is left out with the reason, never counted as failing. Lower bounds never
  // enter an area mean.
  const judged: Array<{ a: AgentAggregate, value: number }> = []
  const unjudgeable: AgentAggregate[] = []
  let linesAtLeast = 0
  for (const a of agents) {
    const v = lineValue(a)
    if (v !== null) { judged.push({ a, value: v }); continue }
    const lb = lowerBounds.get(a.agentId)
    if (lb === undefined) continue
    if (perLine && meets(lb)) { judged.push({ a, value: lb }); linesAtLeast++ } else unjudgeable.push(a)
  }
  if (unjudgeable.length > 0) {
    outside = new Map(outside)
    outside.set('local_link|machine_link', { reason: 'local_link', value: 'machine_link', agents: unjudgeable })
  }
  const withData = judged.map((j) => j.a)
  const agentShare = judged.length === 0 ? null : judged.filter((j) => meets(j.value)).length / judged.length

  const byAgency = new Map<string, number[]>()
  for (const j of judged) {
    const l = byAgency.get(j.a.agencyId) ?? []
    l.push(j.value)
    byAgency.set(j.a.agencyId, l)
  }
  const agencyMeans = [...byAgency.values()].map((l) => l.reduce((x, y) => x + y, 0) / l.length)
  const agencyShare = agencyMeans.length === 0 ? null : agencyMeans.filter(meets).length / agencyMeans.length

  let samples = 0
  let meeting = 0
  for (const a of agents) {
    samples += a.n
    meeting += countAtLeast(a.parts, thr, strict)
  }
  const sampleShare = samples === 0 ? null : meeting / samples

  const busy = agents.filter((a) => a.officeN >= rules.minBusyHourSamplesPerAgent && a.officeMedian !== null)
  const ratio = busy.map((a) => (a.officeMedian as number) / thr)
  const attOk = busy.length >= rules.minAgents
  const attainment = {
    atLeast100: attOk ? ratio.filter((r) => r >= 1).length : null,
    from80to100: attOk ? ratio.filter((r) => r >= 0.8 && r < 1).length : null,
    below80: attOk ? ratio.filter((r) => r < 0.8).length : null,
    n: busy.length,
    status: (busy.length === 0 ? 'no_data' : attOk ? 'ok' : 'insufficient_data') as Cell['status']
  }

  const shareOfAgentsMeeting = cell(agentShare, withData.length, rules.minAgents, 'agents', 4)
  let figure: Cell
  let figureMedian: Cell | undefined
  let exact: number | null = null
  let met: boolean | null = null
  if (t.statistic === 'ispeed_area_mean_at_least') {
    // i-Speed publishes the mean of representative samples ("sum of representative samples ÷
    // count", domain.md §5) over the lines of the target's classes; the median goes beside it.
    const { n, mean, median } = pooledOf(agents)
    figure = cell(mean, n, rules.minRepresentativeSamples, 'representative_samples')
    figureMedian = cell(median, n, rules.minRepresentativeSamples, 'representative_samples')
    if (figure.status === 'ok' && mean !== null) { exact = mean; met = mean >= thr }
  } else {
    figure = shareOfAgentsMeeting
    if (figure.status === 'ok' && agentShare !== null) { exact = agentShare; met = agentShare >= (t.requiredShare ?? 1) }
  }
  return {
    targetId: t.id,
    document: t.source.document,
    issuer: t.source.issuer ?? null,
    date: t.source.date ?? null,
    section: t.source.section ?? null,
    line: t.source.line ?? null,
    scope: t.scope,
    region: t.region,
    year: t.year,
    yearRule: selected.yearRule,
    horizon: selected.yearRule === 'horizon',
    status: t.status,
    statistic: t.statistic,
    thresholdMbps: thr,
    requiredShare: t.requiredShare ?? null,
    appliesTo: { categories: t.categories ?? [], unitTypes: t.unitTypes ?? null, inHighTechZone: t.inHighTechZone === true, words: scopeWords(t) },
    why,
    agents: withData.length,
    agencies: agencyMeans.length,
    leftOut: leftOutOf(outside),
    linesAtLeast,
    figure,
    exact,
    ...(figureMedian === undefined ? {} : { figureMedian }),
    shareOfAgentsMeeting,
    shareOfAgenciesMeeting: cell(agencyShare, agencyMeans.length, rules.minAgents, 'agencies', 4),
    shareOfSamplesMeeting: cell(sampleShare, samples, rules.minRepresentativeSamples, 'representative_samples', 4),
    attainment,
    met
  }
}

/** The mean and median of the representative download samples of a set of lines. */
export interface PooledDown { n: number, mean: number | null, median: number | null }

function pooledDown (agents: readonly AgentAggregate[]): PooledDown {
  const pooled = concat(agents.flatMap((a) => a.parts), SCRATCH.target)
  return { n: pooled.length, mean: meanOf(pooled), median: percentilesInPlace(pooled, [50])[0] ?? null }
}

export function evaluateTargets (agents: readonly AgentAggregate[], ctx: TargetContext): TargetEvaluation[] {
  // Several i-Speed targets (national, provincial, other years) often judge the very same lines:
  // their pooled figures are computed once per set of lines, a pass over its samples saved each time.
  const pooled = new Map<string, PooledDown>()
  const pooledOnce = (list: readonly AgentAggregate[]): PooledDown => {
    const key = list.map((a) => a.agentId).join('\n')
    let p = pooled.get(key)
    if (p === undefined) pooled.set(key, p = pooledDown(list))
    return p
  }
  return [...assignTargets(agents, ctx).values()].map((t) => evaluateTarget(t.selected, t.why, t.agents, ctx.rules, t.outside, ctx.lowerBounds, pooledOnce))
}
