import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { districtReport } from '../../collector/reports/district-report.js'
import { areasReport } from '../../collector/reports/areas-report.js'
import { parsePeriod } from '../../shared/period.js'
import { DEFAULT_REPORT_RULES, type ReportRules } from '../../collector/reports/rules.js'
import type { TargetEvaluation } from '../../collector/reports/figures.js'
import { seededStores, type StoresFixture } from './report-fixtures.js'
import { backends } from '../helpers/stores.js'

/*
 * A known month in former Kon Tum (62), district 608 (TP. Kon Tum), October 2026, worked out by
 * hand. 2026-10-05 is a Monday. Times are ICT. Small publication minimums so every figure
 * publishes: 6 representative samples, 2 agents, 2 busy-hour samples per agent.
 *
 * A1 (agency A: organisation, fixed, VNPT)
 *   Mon 05 09:10 800/400/10 and 09:40 900/500/12 -> one office sample: median 850 / 450 / 11
 *   Mon 05 20:15 1200/600/8   evening
 *   Tue 06 14:05 1000/500/9   office
 *   Tue 06 15:05 50 flagged cross_traffic -> invalid: counted in speedTests, not in figures
 *   Sat 10 10:00 700/300/15   weekend -> other
 *   Wed 07 09:00 skip
 *   Sep 30 10:00 5 (September: outside period=2026-10)
 *   samples 700, 850, 1000, 1200: mean 937.5, median 925; office 850, 1000
 * B1 (agency B: public access point, fixed, Viettel)
 *   Mon 05 10:20 150/50/20 and 10:50 250/70/22 -> office sample 200 / 60 / 21
 *   Tue 06 21:00 300/100/18 evening; Thu 08 16:30 180/40/25 office; Thu 08 11:20 220/80/19 office;
 *   Thu 08 11:40 100/30/30: same clock hour as 11:20 but lunch break (other) -> its own sample
 *   samples 100, 180, 200, 220, 300: mean 200, median 200; office 180, 200, 220
 * C1, C2 (agency C: public access point, 4g, Viettel), two agents of one agency
 *   C1 Mon/Tue/Wed 09:00: 30/10/40, 50/20/35, 60/15/45 -> mean 46.667, median 50, all office
 *   C2 Mon/Tue 10:00: 20/5/60, 40/5/50 -> mean 30, median 30, office
 * District 610 (Đắk Glei): D1 (agency D: public access point, fixed, FPT) one test 90/30/12.
 */
const RULES: ReportRules = { minRepresentativeSamples: 6, minAgents: 2, minBusyHourSamplesPerAgent: 2, qcvn34MinTests: 1000 }
const NOW = new Date('2026-11-02T03:00:00Z')

async function seed (f: StoresFixture): Promise<void> {
  const old608 = '23281' // Phường Quang Trung, TP. Kon Tum (608)
  const old610 = (await f.stores.geo.communes('2025-03', '62', '610'))[0]!.code
  const A = await f.agency('A', old608, { category: 'organisation', connectionClass: 'fixed', isp: 'VNPT', planDownMbps: 1000, planUpMbps: 1000 })
  const B = await f.agency('B', old608, { category: 'public_access_point', connectionClass: 'fixed', isp: 'Viettel' })
  const C = await f.agency('C', old608, { category: 'public_access_point', connectionClass: '4g', isp: 'Viettel' })
  const D = await f.agency('D', old610, { category: 'public_access_point', connectionClass: 'fixed', isp: 'FPT' })
  const a1 = await f.agent(A, 'A1')
  const b1 = await f.agent(B, 'B1')
  const c1 = await f.agent(C, 'C1')
  const c2 = await f.agent(C, 'C2')
  const d1 = await f.agent(D, 'D1')
  // Out of order and in several batches, as agents deliver them.
  await f.ingest(a1, A, [
    { at: '2026-10-05 09:40', down: 900, up: 500, idle: 12 },
    { at: '2026-10-05 20:15', down: 1200, up: 600, idle: 8 },
    { at: '2026-09-30 10:00', down: 5, up: 5, idle: 50 }
  ])
  await f.ingest(a1, A, [
    { at: '2026-10-06 14:05', down: 1000, up: 500, idle: 9 },
    { at: '2026-10-06 15:05', down: 50, up: 40, idle: 30, flags: ['cross_traffic'] },
    { at: '2026-10-10 10:00', down: 700, up: 300, idle: 15 },
    { at: '2026-10-07 09:00', kind: 'skip' },
    { at: '2026-10-05 09:10', down: 800, up: 400, idle: 10 }
  ])
  await f.ingest(b1, B, [
    { at: '2026-10-05 10:20', down: 150, up: 50, idle: 20 },
    { at: '2026-10-05 10:50', down: 250, up: 70, idle: 22 },
    { at: '2026-10-06 21:00', down: 300, up: 100, idle: 18 },
    { at: '2026-10-08 16:30', down: 180, up: 40, idle: 25 },
    { at: '2026-10-08 11:20', down: 220, up: 80, idle: 19 },
    { at: '2026-10-08 11:40', down: 100, up: 30, idle: 30 }
  ])
  await f.ingest(c1, C, [
    { at: '2026-10-05 09:00', down: 30, up: 10, idle: 40 },
    { at: '2026-10-06 09:00', down: 50, up: 20, idle: 35 },
    { at: '2026-10-07 09:00', down: 60, up: 15, idle: 45 }
  ])
  await f.ingest(c2, C, [
    { at: '2026-10-05 10:00', down: 20, up: 5, idle: 60 },
    { at: '2026-10-06 10:00', down: 40, up: 5, idle: 50 }
  ])
  await f.ingest(d1, D, [{ at: '2026-10-05 09:00', down: 90, up: 30, idle: 12 }])
}

const october = (): ReturnType<typeof parsePeriod> => parsePeriod('2026-10', undefined, 'all')
const byId = (ts: TargetEvaluation[], id: string): TargetEvaluation => {
  const t = ts.find((x) => x.targetId === id)
  if (t === undefined) throw new Error(`target ${id} not evaluated; got ${ts.map((x) => x.targetId).join(', ')}`)
  return t
}

// The same figures on every store: the rollups and every read behind the report are the store's (docs/storage.md).
describe.each(backends)('district report, worked by hand ($name)', ({ open }) => {
  let f: StoresFixture
  beforeAll(async () => { f = await seededStores(open); await seed(f) })
  afterAll(async () => { await f.close() })

  it('issue-2 fields of district 608 for October 2026', async () => {
    const r = await districtReport(f.stores, '62', NOW, { period: october(), rules: RULES })
    expect(r.province).toEqual({ code: '62', name: 'Kon Tum', version: '2025-03' })
    expect(r.districts.map((d) => d.districtCode)).toEqual(['608', '610', '611', '612', '613', '614', '615', '616', '617', '618'])
    const d = r.districts[0]!
    expect(d.agents).toBe(4) // A1, B1, C1, C2 active and placed in 608
    expect(d.results).toBe(17) // speed results: A1 6 (incl. the invalid one), B1 6, C1 3, C2 2
    expect(d.validResults).toBe(16)
    // 14 samples: 20 30 40 50 60 100 180 200 220 300 700 850 1000 1200, sum 4950
    expect(d.downloadMeanMbps).toBe(353.571) // 4950 / 14
    expect(d.downloadMedianMbps).toBe(190) // rank 0.5 x 13 = 6.5 -> (180 + 200) / 2
    // uploads 5 5 10 15 20 30 40 60 80 100 300 450 500 600, sum 2215
    expect(d.uploadMeanMbps).toBe(158.214) // 2215 / 14
    expect(d.uploadMedianMbps).toBe(50) // (40 + 60) / 2
    // idle 8 9 11 15 18 19 21 25 30 35 40 45 50 60 -> (21 + 25) / 2
    expect(d.idleLatencyMedianMs).toBe(23)
    // One entry per national target current in 2026 (the 2025 entries); never one mixed share.
    const shares = Object.fromEntries(d.targets.map((t) => [t.id, [t.thresholdMbps, t.shareOfLinesMeeting, t.shareOfSamplesMeeting.value, t.shareOfSamplesMeeting.n, t.leftOut.agents]]))
    expect(shares).toEqual({
      // Households only: no line is a household; A1 (organisation) and B1 (public access point) left out.
      'qd36-2025-fixed-household': [200, { value: null, n: 0, minN: 2, basis: 'agents', status: 'no_data' }, null, 0, 2],
      // High-tech zones: neither wired line's agency (A1, B1) is in a zone; both left out.
      'qd36-2025-high-tech-zone': [1000, { value: null, n: 0, minN: 2, basis: 'agents', status: 'no_data' }, null, 0, 2],
      // 4G: C1 mean 46.667 >= 40, C2 30 < 40 -> 1 of 2 lines; samples >= 40: 40, 50, 60 of 5, n 5 < 6 -> withheld
      'qd36-2025-mobile-4g': [40, { value: 0.5, n: 2, minN: 2, basis: 'agents', status: 'ok' }, null, 5, 0],
      // Urban organisations: A1 (Phường Kon Tum) only, 1 line < 2 -> withheld; B1 left out (not an organisation)
      'qd36-2025-organisation': [1000, { value: null, n: 1, minN: 2, basis: 'agents', status: 'insufficient_data' }, null, 4, 1]
    })
    expect(d.targets.find((t) => t.id === 'qd36-2025-fixed-household')?.leftOut.reasons).toEqual([
      { reason: 'category', value: 'organisation', agents: 1, agencies: 1 },
      { reason: 'category', value: 'public_access_point', agents: 1, agencies: 1 }
    ])
  })

  it('coverage and publishable cells of district 608', async () => {
    const d = (await districtReport(f.stores, '62', NOW, { period: october(), rules: RULES })).districts[0]!
    expect(d.coverage).toEqual({
      agentsEnrolled: 4,
      agentsReporting: 4,
      agencies: 3,
      results: 18, // 17 speed + 1 skip
      speedTests: 17,
      validTests: 16,
      skipped: 1,
      representativeSamples: 14 // 16 valid tests, two pairs collapsed within their hour
    })
    const x = d.figures
    expect(x.downloadMean).toEqual({ value: 353.57, n: 14, minN: 6, basis: 'representative_samples', status: 'ok' })
    expect(x.downloadMedian.value).toBe(190)
    expect(x.downloadP20.value).toBe(46) // rank 0.2 x 13 = 2.6 -> 40 + 0.6 x (50 - 40)
    expect(x.uploadMean.value).toBe(158.21)
    expect(x.uploadMedian.value).toBe(50)
    expect(x.idleLatencyMedianMs.value).toBe(23)
    // agent medians 30 (C2), 50 (C1), 200 (B1), 925 (A1): rank 1.5 -> (50 + 200) / 2
    expect(x.agentMedianOfMedians).toEqual({ value: 125, n: 4, minN: 2, basis: 'agents', status: 'ok' })
    // office p20 per agent: A1 850,1000 -> 880; B1 180,200,220 -> 188; C1 30,50,60 -> 38; C2 20,40 -> 24
    // p20 of 24 38 188 880: rank 0.6 -> 24 + 0.6 x 14 = 32.4
    expect(x.busyHour8080).toEqual({ value: 32.4, n: 4, minN: 2, basis: 'agents', status: 'ok' })
  })

  it('each target is computed the way its statistic says, with its source and why', async () => {
    const d = (await districtReport(f.stores, '62', NOW, { period: october(), rules: RULES })).districts[0]!
    const ids = d.targetEvaluations.map((t) => t.targetId).sort()
    expect(ids).toEqual([
      'kt2391-2025-fixed-household', 'kt2391-2025-mobile-4g', 'kt2391-2025-organisation', 'kt2391-2030-fixed-1gbps',
      'national-2030-fixed-1gbps', 'qd36-2025-fixed-household', 'qd36-2025-high-tech-zone', 'qd36-2025-mobile-4g', 'qd36-2025-organisation'
    ])
    // QĐ 36 organisations: only A1 (1 agent < 2): insufficient, never a number. A1 mean 937.5 < 1000.
    const org = byId(d.targetEvaluations, 'qd36-2025-organisation')
    expect(org.yearRule).toBe('latest_before')
    expect(org.figure).toEqual({ value: null, n: 1, minN: 2, basis: 'agents', status: 'insufficient_data' })
    expect(org.met).toBeNull()
    expect(org.shareOfSamplesMeeting).toMatchObject({ value: null, n: 4, status: 'insufficient_data' }) // 2 of 4, n < 6
    expect(org.why).toContain('QĐ 36/QĐ-TTg')
    expect(org.appliesTo).toEqual({ categories: ['organisation'], unitTypes: ['phường'], inHighTechZone: false, words: 'organisations in communes of type phường' })
    expect(org.leftOut).toEqual({ agents: 1, agencies: 1, reasons: [{ reason: 'category', value: 'public_access_point', agents: 1, agencies: 1 }] })
    // 2030 goal, all fixed lines: A1 937.5 and B1 200 both < 1000 -> share 0, required 1 -> not met
    const g2030 = byId(d.targetEvaluations, 'national-2030-fixed-1gbps')
    expect(g2030.horizon).toBe(true)
    expect(g2030.figure).toEqual({ value: 0, n: 2, minN: 2, basis: 'agents', status: 'ok' })
    expect(g2030.met).toBe(false)
    expect(g2030.shareOfSamplesMeeting.value).toBe(0.2222) // 1000, 1200 of A1's 4 + B1's 5 samples = 2 / 9
    expect(g2030.shareOfAgenciesMeeting).toMatchObject({ value: 0, n: 2 })
    // office medians: A1 925 / 1000 = 0.925 (80-100 %), B1 200 / 1000 (< 80 %)
    expect(g2030.attainment).toEqual({ atLeast100: 0, from80to100: 1, below80: 1, n: 2, status: 'ok' })
    // Kon Tum's 2030 goal is "> 1 Gb/s": strictly above, so 1000 itself does not count: 1 / 9
    expect(byId(d.targetEvaluations, 'kt2391-2030-fixed-1gbps').shareOfSamplesMeeting.value).toBe(0.1111)
    // 4G is an area average, the i-Speed way: the mean of the 5 representative samples
    // 30 50 60 20 40 = 200 / 5 = 40, not the mean of line means (46.667 + 30) / 2 = 38.33.
    // 5 samples < 6: withheld here; with a minimum of 5 it is published and meets 40.
    const g4 = byId(d.targetEvaluations, 'qd36-2025-mobile-4g')
    expect(g4.statistic).toBe('ispeed_area_mean_at_least')
    expect(g4.figure).toEqual({ value: null, n: 5, minN: 6, basis: 'representative_samples', status: 'insufficient_data' })
    expect(g4.met).toBeNull()
    const g4at5 = byId((await districtReport(f.stores, '62', NOW, { period: october(), rules: { ...RULES, minRepresentativeSamples: 5 } })).districts[0]!.targetEvaluations, 'qd36-2025-mobile-4g')
    expect(g4at5.figure).toEqual({ value: 40, n: 5, minN: 5, basis: 'representative_samples', status: 'ok' })
    expect(g4at5.exact).toBe(40)
    expect(g4at5.figureMedian?.value).toBe(40) // 20 30 40 50 60
    expect(g4at5.met).toBe(true)
    expect(g4.shareOfAgentsMeeting.value).toBe(0.5) // C1 46.667 >= 40, C2 30 < 40
    // C1 and C2 belong to one agency: its mean 38.33 fails; 1 agency < 2 -> insufficient
    expect(g4.shareOfAgenciesMeeting).toMatchObject({ value: null, n: 1, status: 'insufficient_data' })
    expect(g4.attainment).toEqual({ atLeast100: 1, from80to100: 0, below80: 1, n: 2, status: 'ok' }) // 50/40, 30/40
    const kt = byId(d.targetEvaluations, 'kt2391-2025-mobile-4g')
    expect(kt.document).toBe('Kế hoạch 2391/KH-UBND')
    expect(kt.region).toEqual({ version: '2025-03', code: '62' })
    expect(kt.why).toMatch(/former province Kon Tum \(62/)
  })

  it('district 610 has too little data and says so with n', async () => {
    const d = (await districtReport(f.stores, '62', NOW, { period: october(), rules: RULES })).districts[1]!
    expect(d.districtCode).toBe('610')
    expect(d.coverage).toMatchObject({ agentsEnrolled: 1, agentsReporting: 1, representativeSamples: 1 })
    expect(d.figures.downloadMean).toEqual({ value: null, n: 1, minN: 6, basis: 'representative_samples', status: 'insufficient_data' })
    expect(d.downloadMeanMbps).toBe(90) // the issue-2 field stays a raw number
    expect((await districtReport(f.stores, '62', NOW, { period: october(), rules: RULES })).districts[2]!.figures.downloadMean.status).toBe('no_data')
  })

  it('default minimums (300 samples, 5 agents) withhold every figure here', async () => {
    const d = (await districtReport(f.stores, '62', NOW, { period: october(), rules: DEFAULT_REPORT_RULES })).districts[0]!
    expect(d.figures.downloadMedian).toMatchObject({ value: null, n: 14, minN: 300, status: 'insufficient_data' })
    expect(d.figures.agentMedianOfMedians).toMatchObject({ value: null, n: 4, minN: 5 })
  })

  it('period all adds September; the month filter leaves it out', async () => {
    const all = (await districtReport(f.stores, '62', NOW, { rules: RULES })).districts[0]!
    expect(all.results).toBe(18)
    expect(all.coverage.representativeSamples).toBe(15)
    expect(all.downloadMeanMbps).toBe(330.333) // (4950 + 5) / 15
  })

  it('split by time band and ISP', async () => {
    const r = await areasReport(f.stores, { level: 'legacy_district', province: '62', code: '608', period: october(), split: 'time_band', rules: RULES, now: NOW.getTime() })
    const bands = Object.fromEntries(r.rows.filter((x) => x.split !== null).map((x) => [x.split!.value, x.coverage.representativeSamples]))
    // office: A1 850, 1000; B1 200, 180, 220; C1 x3; C2 x2 = 10; evening: A1 1200, B1 300; other: A1 700, B1 100
    expect(bands).toEqual({ office: 10, evening: 2, other: 2 })
    const isp = await areasReport(f.stores, { level: 'legacy_district', province: '62', code: '608', period: october(), split: 'isp', rules: RULES, now: NOW.getTime() })
    const viettel = isp.rows.find((x) => x.split?.value === 'Viettel')!
    expect(viettel.coverage.agentsEnrolled).toBe(3)
    // B1 100 180 200 220 300, C1 30 50 60, C2 20 40: 10 samples, median rank 4.5 -> (60 + 100) / 2
    expect(viettel.figures.downloadMedian.value).toBe(80)
  })
})
