import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { agencyReport } from '../../collector/reports/agency-report.js'
import { parsePeriod } from '../../shared/period.js'
import { DEFAULT_REPORT_RULES } from '../../collector/reports/rules.js'
import { seededStores, type StoresFixture } from './report-fixtures.js'
import { backends } from '../helpers/stores.js'

/*
 * QCVN 34:2022 defines a sample's speed as the bytes of the whole transfer over its time. A
 * fixed line with a 300/300 Mbps plan must average >= 240 in each direction.
 *   steady-state goodput (down): 250, 250, 260 -> mean 253.33: would pass
 *   whole transfer (down):        230, 240, 245 -> mean 715 / 3 = 238.33: fails
 *   upload goodput 260 x 3, whole 250 x 3 -> 250 >= 240
 * A 5G line (QCVN 126:2021): whole-transfer downloads 120, 100, 25 (goodput 130, 110, 35):
 *   mean 245 / 3 = 81.67 < 100, 2 of 3 samples >= 30 (0.6667 < 0.95) -> fails
 */
// Every store backend gives the same report (docs/storage.md).
describe.each(backends)('regulation checks ($name)', ({ open }) => {
  let f: StoresFixture
  let fixedId: string
  let fiveGId: string
  beforeAll(async () => {
    f = await seededStores(open)
    const A = await f.agency('A', '23281', { category: 'organisation', connectionClass: 'fixed', isp: 'VNPT', planDownMbps: 300, planUpMbps: 300 })
    const a1 = await f.agent(A, 'A1')
    await f.ingest(a1, A, [
      { at: '2026-10-05 09:10', down: 250, downWhole: 230, up: 260, upWhole: 250, idle: 10 },
      { at: '2026-10-06 10:10', down: 250, downWhole: 240, up: 260, upWhole: 250, idle: 10 },
      { at: '2026-10-07 11:10', down: 260, downWhole: 245, up: 260, upWhole: 250, idle: 10 }
    ])
    const B = await f.agency('B', '23281', { category: 'public_access_point', connectionClass: '5g', isp: 'Viettel' })
    const b1 = await f.agent(B, 'B1')
    await f.ingest(b1, B, [
      { at: '2026-10-05 09:10', down: 130, downWhole: 120, up: 40, upWhole: 35, idle: 20 },
      { at: '2026-10-06 10:10', down: 110, downWhole: 100, up: 40, upWhole: 35, idle: 20 },
      { at: '2026-10-07 11:10', down: 35, downWhole: 25, up: 40, upWhole: 35, idle: 20 }
    ])
    fixedId = A.id
    fiveGId = B.id
  })
  afterAll(async () => { await f.close() })

  const report = async (id: string): Promise<Record<string, any>> => (await agencyReport(f.stores, id, { period: parsePeriod('2026-10', undefined, 'all'), rules: DEFAULT_REPORT_RULES, now: Date.parse('2026-11-02T00:00:00Z') })) as Record<string, any>

  describe('regulation checks use the regulation\'s own sample definition', () => {
    it('QCVN 34: judged on whole-transfer speeds (238.33 < 240 fails) with the goodput mean (253.33) beside', async () => {
      const q = (await report(fixedId)).qcvn34[0]
      expect(q).toMatchObject({
        applies: true,
        sampleDefinition: 'whole_transfer',
        tests: 3,
        meanDownMbps: 238.33,
        meanUpMbps: 250,
        steadyStateMeanDownMbps: 253.33,
        steadyStateMeanUpMbps: 260,
        requiredDownMbps: 240,
        requiredUpMbps: 240,
        pass: false,
        indicative: true,
        enoughTests: false
      })
      expect(q.meanDownExact).toBeCloseTo(715 / 3, 12)
    })

    it('QCVN 126: whole-transfer mean 81.67 and share >= 30 Mbps 0.6667 fail; goodput mean shown beside', async () => {
      const q = (await report(fiveGId)).qcvn126[0]
      expect(q).toMatchObject({ applies: true, tests: 3, meanDownMbps: 81.67, meanUpMbps: 35, steadyStateMeanDownMbps: 91.67, shareDownAtLeast30: 0.6667, meanLatencyMs: 20, pass: false })
    })
  })
})
