import type { Agency, WholeTransferRows } from '../storage/stores.js'
import type { ReportStores, MonthRow } from './rollup-reader.js'
import { TocdoError } from '../../shared/errors.js'
import { round, roundOrNull } from '../../shared/units.js'
import { computeGroup, evaluateTargets } from './figures.js'
import { readMonthRows } from './rollup-reader.js'
import { periodBounds, periodYear, type Period } from '../../shared/period.js'
import { describeRules, type ReportRules } from './rules.js'
import { targetContext } from './context.js'
import type { Static } from '@sinclair/typebox'
import type { AgencyReport, Qcvn126Schema, Qcvn34Schema } from './schemas.js'

const RECENT = 20

function sums (rows: readonly MonthRow[]): { tests: number, down: number, testsUp: number, up: number, testsIdle: number, idle: number, ge30: number } {
  const s = { tests: 0, down: 0, testsUp: 0, up: 0, testsIdle: 0, idle: 0, ge30: 0 }
  for (const r of rows) {
    s.tests += r.nValid
    s.down += r.sumTestDown
    s.testsUp += r.nTestUp
    s.up += r.sumTestUp
    s.testsIdle += r.nTestIdle
    s.idle += r.sumTestIdle
    s.ge30 += r.nTestDownGe30
  }
  return s
}

/**
 * Per-test speeds as the regulations define a sample: the bytes of the whole transfer over its
 * time (the record's meanWholeMbps, ramp included), not the steady-state goodput the figures use.
 * Valid speed tests of one agent, all stored history; read from the stored records because the
 * rollups keep goodput only.
 */
interface WholeTransfer { tests: number, down: number, testsUp: number, up: number, ge30: number }
function wholeTransfer (rows: WholeTransferRows | undefined): WholeTransfer {
  const s = { tests: 0, down: 0, testsUp: 0, up: 0, ge30: 0 }
  for (const d of rows?.down ?? []) if (typeof d === 'number') { s.tests++; s.down += d; if (d >= 30) s.ge30++ }
  for (const u of rows?.up ?? []) if (typeof u === 'number') { s.testsUp++; s.up += u }
  return s
}

/**
 * QCVN 34:2022: Pd >= 0.8 x Vd and Pu >= 0.8 x Vu, Pd the arithmetic mean of per-sample speeds
 * (a sample: file bytes / transfer time), over >= 1,000 samples per direction at varied hours.
 * Judged on whole-transfer speeds, unrounded; the steady-state goodput mean is shown beside.
 * One agent against our own servers is not the regulation's procedure, so the check is always
 * labelled indicative, with its test count.
 */
function qcvn34 (agency: Agency, agentId: string, all: readonly MonthRow[], whole: WholeTransfer, rules: ReportRules): Static<typeof Qcvn34Schema> {
  const applies = agency.connectionClass === 'fixed' && agency.planDownMbps !== null
  const s = sums(all)
  const meanDown = whole.tests === 0 ? null : whole.down / whole.tests
  const meanUp = whole.testsUp === 0 ? null : whole.up / whole.testsUp
  const reqDown = agency.planDownMbps === null ? null : 0.8 * agency.planDownMbps
  const reqUp = agency.planUpMbps === null ? null : 0.8 * agency.planUpMbps
  let pass: boolean | null = null
  if (applies && meanDown !== null && reqDown !== null) {
    pass = meanDown >= reqDown && (reqUp === null || (meanUp !== null && meanUp >= reqUp))
  }
  const why = !applies
    ? (agency.connectionClass !== 'fixed' ? `QCVN 34:2022 covers fixed broadband (FTTH/xPON, cable); this line is ${agency.connectionClass}` : 'the plan (declared) download speed is not recorded for this agency; enter it to check QCVN 34')
    : `QCVN 34:2022: mean of per-sample speeds (whole-transfer bytes / time) >= 0.8 x plan (${agency.planDownMbps ?? '?'}/${agency.planUpMbps ?? '?'} Mbps)${reqUp === null ? '; upload plan unknown, download only' : ''}; ` +
      (whole.tests >= rules.qcvn34MinTests ? `${whole.tests} tests (>= ${rules.qcvn34MinTests})` : `only ${whole.tests} of the ${rules.qcvn34MinTests} tests the regulation needs`) +
      '; indicative: one agent against tocdo servers, not the regulation\'s procedure'
  return {
    agentId,
    applies,
    planDownMbps: agency.planDownMbps,
    planUpMbps: agency.planUpMbps,
    tests: whole.tests,
    testsUp: whole.testsUp,
    enoughTests: whole.tests >= rules.qcvn34MinTests && (reqUp === null || whole.testsUp >= rules.qcvn34MinTests),
    sampleDefinition: 'whole_transfer' as const,
    meanDownMbps: roundOrNull(meanDown, 2),
    meanUpMbps: roundOrNull(meanUp, 2),
    meanDownExact: meanDown,
    meanUpExact: meanUp,
    steadyStateMeanDownMbps: roundOrNull(s.tests === 0 ? null : s.down / s.tests, 2),
    steadyStateMeanUpMbps: roundOrNull(s.testsUp === 0 ? null : s.up / s.testsUp, 2),
    requiredDownMbps: reqDown,
    requiredUpMbps: reqUp,
    pass,
    indicative: true as const,
    why
  }
}

/** QCVN 126:2021 (5G): mean DL >= 100, mean UL >= 30, >= 95 % of samples DL >= 30, mean latency <= 50 ms; whole-transfer samples. */
function qcvn126 (agency: Agency, agentId: string, all: readonly MonthRow[], whole: WholeTransfer): Static<typeof Qcvn126Schema> {
  const applies = agency.connectionClass === '5g'
  const s = sums(all)
  const meanDown = whole.tests === 0 ? null : whole.down / whole.tests
  const meanUp = whole.testsUp === 0 ? null : whole.up / whole.testsUp
  const share30 = whole.tests === 0 ? null : whole.ge30 / whole.tests
  const latency = s.testsIdle === 0 ? null : s.idle / s.testsIdle
  const pass = !applies || meanDown === null || meanUp === null || share30 === null || latency === null
    ? null
    : meanDown >= 100 && meanUp >= 30 && share30 >= 0.95 && latency <= 50
  return {
    agentId,
    applies,
    tests: whole.tests,
    sampleDefinition: 'whole_transfer' as const,
    meanDownMbps: roundOrNull(meanDown, 2),
    meanUpMbps: roundOrNull(meanUp, 2),
    steadyStateMeanDownMbps: roundOrNull(s.tests === 0 ? null : s.down / s.tests, 2),
    shareDownAtLeast30: share30 === null ? null : round(share30, 4),
    meanLatencyMs: roundOrNull(latency, 2),
    pass,
    indicative: true as const,
    why: applies
      ? `QCVN 126:2021: mean DL >= 100, UL >= 30 Mbps, >= 95 % of samples DL >= 30 Mbps (whole-transfer bytes / time), mean latency <= 50 ms over >= 1,500 samples in indoor, outdoor-fixed and outdoor-mobile conditions; ${whole.tests} tests from one fixed place, so indicative; failed-access rate is not measured`
      : `QCVN 126:2021 covers 5G; this line is ${agency.connectionClass}`
  }
}

/**
 * The agency's speed results over Wi-Fi or through a VPN in the period: never in its figures or
 * compliance checks (they measure the machine's radio or tunnel, not the line), counted here so the
 * page says how many were left out and why (methodology.md §11).
 */
function setApartOf (counts: ReadonlyMap<string, { wifi: number, vpn: number }>, agentIds: readonly string[]): { wifi: number, vpn: number, results: number } {
  const out = { wifi: 0, vpn: 0, results: 0 }
  for (const id of agentIds) {
    const c = counts.get(id) ?? { wifi: 0, vpn: 0 }
    out.wifi += c.wifi
    out.vpn += c.vpn
  }
  out.results = out.wifi + out.vpn
  return out
}

export async function agencyReport (stores: ReportStores, agencyId: string, q: { period: Period, rules: ReportRules, now?: number }): Promise<AgencyReport> {
  const detail = await stores.rollups.agencyDetail(agencyId, periodBounds(q.period), RECENT)
  if (detail === undefined) throw new TocdoError('TOCDO_ERR_NOT_FOUND', `no agency with id ${agencyId}`, { details: { field: 'id' } })
  const { agency, agents, places } = detail
  const inPeriod = await readMonthRows(stores.rollups, { column: 'agency_id', code: agencyId }, q.period)
  const allTime = q.period.kind === 'all' ? inPeriod : await readMonthRows(stores.rollups, { column: 'agency_id', code: agencyId }, { kind: 'all', from: null, to: null, months: null })
  const ctx = await targetContext(stores, periodYear(q.period, q.now), q.rules, q.period)
  const group = computeGroup(inPeriod, q.rules)
  const whole = new Map(agents.map((a) => [a.id, wholeTransfer(detail.wholeTransfer.get(a.id))]))

  const recentResults = [...detail.recent]
    .sort((x, y) => y.measuredAt - x.measuredAt)
    .slice(0, RECENT)
    .map((r) => ({ ...r, measuredAt: new Date(r.measuredAt).toISOString(), valid: r.valid === 1, flags: r.flags === '' ? [] : r.flags.split(',') }))

  return {
    report: 'agency',
    agency: {
      id: agency.id,
      name: agency.name,
      category: agency.category,
      connectionClass: agency.connectionClass,
      isp: agency.isp,
      planDownMbps: agency.planDownMbps,
      planUpMbps: agency.planUpMbps,
      placement: {
        ...places,
        note: agency.placementNote
      }
    },
    period: q.period,
    generatedAt: new Date(q.now ?? Date.now()).toISOString(),
    rules: describeRules(q.rules),
    coverage: { agentsEnrolled: agents.filter((a) => a.status === 'active').length, ...group.coverage },
    figures: group.figures,
    // One line's own figures have no publication minimum (fleet-protocol.md §15 step 1); n is shown beside each.
    agents: agents.map((a) => {
      const g = computeGroup(inPeriod.filter((r) => r.agentId === a.id), { ...q.rules, minRepresentativeSamples: 1, minAgents: 1 })
      return { ...a, lastSeenAt: a.lastSeenAt === null ? null : new Date(a.lastSeenAt).toISOString(), coverage: g.coverage, figures: g.figures }
    }),
    recentResults,
    setApart: setApartOf(detail.setApart, agents.map((a) => a.id)),
    targets: evaluateTargets(group.agents, ctx),
    qcvn34: agents.map((a) => qcvn34(agency, a.id, allTime.filter((r) => r.agentId === a.id), whole.get(a.id) as WholeTransfer, q.rules)),
    qcvn126: agents.map((a) => qcvn126(agency, a.id, allTime.filter((r) => r.agentId === a.id), whole.get(a.id) as WholeTransfer))
  }
}
