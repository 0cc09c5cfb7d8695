import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { areasReport } from '../../collector/reports/areas-report.js'
import { agencyReport } from '../../collector/reports/agency-report.js'
import { parsePeriod } from '../../shared/period.js'
import type { ReportRules } from '../../collector/reports/rules.js'
import { computeGroup, evaluateTargets, type TargetEvaluation } from '../../collector/reports/figures.js'
import { targetContext } from '../../collector/reports/context.js'
import { readMonthRows } from '../../collector/reports/rollup-reader.js'
import { leftOutVi } from '../../collector/reports/labels-vi.js'
import { seededStores, type StoresFixture } from './report-fixtures.js'
import { backends } from '../helpers/stores.js'

/*
 * Results at the machine's link (docs/methodology.md §11), former Kon Tum (62), October 2026,
 * worked out by hand. Publication minimums of 1 so every figure publishes.
 *
 * H1 (agency H: organisation in a phường, fixed, 300 Mbps plan, 1 Gbit/s card): 941, 941 and 938
 *   Mbit/s, each flagged local_link_limited only -> stored invalid, no counted result; lower bound
 *   (941 + 941 + 938) / 3 = 940. A 300 Mbps (or 200 Mbps) per-line target: 940 >= 300 -> meeting.
 * O1 (agency O: organisation in a phường, fixed, 1 Gbps plan, 1 Gbit/s card): 941 and 939, flagged
 *   local_link_limited -> lower bound 940 < 1000: not judgeable against the 1 Gbps organisation
 *   targets -> left out, reason local_link; never failing.
 * O2 (agency O2: organisation, fixed): 941 flagged local_link_limited AND cross_traffic -> not a
 *   lower bound (another disqualifying flag): ignored by the rule.
 * P1 (agency P: public access point, fixed): valid 100 and 120 Mbit/s -> mean 110.
 * The area's download mean is P1's alone: (100 + 120) / 2 = 110 over 2 samples; the lower bounds of
 * H1 and O1 never enter it.
 */
const RULES: ReportRules = { minRepresentativeSamples: 1, minAgents: 1, minBusyHourSamplesPerAgent: 1, qcvn34MinTests: 1000 }
const NOW = new Date('2026-11-02T03:00:00Z').getTime()
const october = (): ReturnType<typeof parsePeriod> => parsePeriod('2026-10', undefined, 'all')

// Every store backend gives the same report (docs/storage.md).
describe.each(backends)('link-limited results in reports ($name)', ({ open }) => {
  let f: StoresFixture
  let hId = ''
  beforeAll(async () => {
    f = await seededStores(open)
    const old608 = '23281' // Phường Quang Trung, TP. Kon Tum (608)
    const H = await f.agency('H', old608, { category: 'organisation', connectionClass: 'fixed', isp: 'VNPT', planDownMbps: 300, planUpMbps: 300 })
    const O = await f.agency('O', old608, { category: 'organisation', connectionClass: 'fixed', isp: 'VNPT', planDownMbps: 1000, planUpMbps: 1000 })
    const O2 = await f.agency('O2', old608, { category: 'organisation', connectionClass: 'fixed', isp: 'FPT', planDownMbps: 1000, planUpMbps: 1000 })
    const P = await f.agency('P', old608, { category: 'public_access_point', connectionClass: 'fixed', isp: 'Viettel' })
    hId = H.id
    const link = ['local_link_limited'] as const
    await f.ingest(await f.agent(H, 'H1'), H, [
      { at: '2026-10-05 09:10', down: 941, up: 900, idle: 5, flags: [...link] },
      { at: '2026-10-06 14:05', down: 941, up: 900, idle: 5, flags: [...link] },
      { at: '2026-10-07 20:15', down: 938, up: 900, idle: 5, flags: [...link] }
    ])
    await f.ingest(await f.agent(O, 'O1'), O, [
      { at: '2026-10-05 10:10', down: 941, up: 941, idle: 4, flags: [...link] },
      { at: '2026-10-06 10:10', down: 939, up: 941, idle: 4, flags: [...link] }
    ])
    await f.ingest(await f.agent(O2, 'O2-1'), O2, [
      { at: '2026-10-05 11:10', down: 941, up: 941, idle: 4, flags: ['local_link_limited', 'cross_traffic'] }
    ])
    await f.ingest(await f.agent(P, 'P1'), P, [
      { at: '2026-10-05 09:30', down: 100, up: 40, idle: 10 },
      { at: '2026-10-06 09:30', down: 120, up: 40, idle: 10 }
    ])
  })
  afterAll(async () => { await f.close() })

  async function province (): Promise<{ figures: Record<string, { value: number | null, n: number }>, targets: TargetEvaluation[] }> {
    const r = await areasReport(f.stores, { level: 'legacy_province', code: '62', period: october(), rules: RULES, now: NOW })
    const row = r.rows[0]
    if (row === undefined) throw new Error('no province row')
    return row as unknown as { figures: Record<string, { value: number | null, n: number }>, targets: TargetEvaluation[] }
  }

  describe('results at the machine\'s link against targets', () => {
    it('counts 1 Gbit/s-card lines at 940 Mbit/s as meeting a 200 or 300 Mbps per-line target', async () => {
      // The seeds have no 200/300 Mbps target for organisations: the province's organisation target
      // (share of lines with mean >= X, 90 %) at those thresholds, through the same report code.
      const ctx = await targetContext(f.stores, 2026, RULES, october())
      const base = ctx.entries.find((e) => e.id === 'kt2391-2025-organisation')
      expect(base).toBeDefined()
      const agents = computeGroup(await readMonthRows(f.stores.rollups, { column: 'legacy_province_code', code: '62' }, october()), RULES).agents
      for (const thr of [200, 300]) {
        const entries = [{ ...base!, id: `org-${thr}`, thresholdMbps: thr }]
        const t = evaluateTargets(agents, { ...ctx, entries }).find((x) => x.targetId === `org-${thr}`) as TargetEvaluation
        expect(t.agents).toBe(2) // H1 and O1, on their lower bound of 940
        expect(t.linesAtLeast).toBe(2)
        expect(t.shareOfAgentsMeeting.value).toBe(1)
        expect(t.met).toBe(true)
        expect(t.leftOut.reasons.some((r) => r.reason === 'local_link')).toBe(false)
      }
    })

    it('leaves a link-limited organisation line out of the 1 Gbps line-share target with the reason, never failing it', async () => {
      const org = (await province()).targets.find((t) => t.targetId === 'kt2391-2025-organisation')
      expect(org).toBeDefined()
      const t = org as TargetEvaluation
      expect(t.agents).toBe(0)
      expect(t.linesAtLeast).toBe(0)
      expect(t.met).toBeNull()
      expect(t.figure.status).toBe('no_data')
      expect(t.leftOut.reasons).toContainEqual({ reason: 'local_link', value: 'machine_link', agents: 2, agencies: 2 })
      expect(leftOutVi(t)).toContain('Không đánh giá được 2 đường truyền bị giới hạn bởi card mạng của máy đo')
    })

    it('judges the valid line on its own and leaves the lower bound out of a 1 Gbps target for all fixed lines', async () => {
      // kt2391-2030-fixed-1gbps (horizon): organisations and public access points, mean above 1000.
      const t = (await province()).targets.find((x) => x.targetId === 'kt2391-2030-fixed-1gbps') as TargetEvaluation
      expect(t).toBeDefined()
      expect(t.agents).toBe(1) // P1 at 110: judged, not meeting
      expect(t.shareOfAgentsMeeting.value).toBe(0)
      expect(t.leftOut.reasons.find((r) => r.reason === 'local_link')?.agents).toBe(2) // H1 and O1; O2 has another flag
    })

    it('never lets a lower bound into an area figure', async () => {
      const p = await province()
      expect(p.figures.downloadMean?.value).toBe(110)
      expect(p.figures.downloadMean?.n).toBe(2)
    })

    it('gives the agency page what it needs to tell the IT person what to change', async () => {
      const r = (await agencyReport(f.stores, hId, { period: october(), rules: RULES, now: NOW })) as { recentResults: Array<{ kind: string, flags: string[], downloadMbps: number }>, targets: TargetEvaluation[] }
      const latest = r.recentResults.find((x) => x.kind === 'speed')
      expect(latest?.flags).toContain('local_link_limited')
      expect(latest?.downloadMbps).toBe(938)
      const org = r.targets.find((t) => t.targetId === 'kt2391-2025-organisation')
      expect(org?.leftOut.reasons.find((x) => x.reason === 'local_link')?.agents).toBe(1)
      const vi = ((await import(pathToFileURL('collector/dashboard/public/js/i18n/vi.js').href)) as { default: Record<string, string> }).default
      const text = vi['agency.linkLimited'] ?? ''
      expect(text).toContain('card mạng')
      expect(text).toContain('router')
    })
  })
})
