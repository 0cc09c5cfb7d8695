import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadTargetEntries, targetsForLine, type TargetEntry } from '../../collector/targets/targets.js'
import { evaluateTarget, evaluateTargets, type AgentAggregate } from '../../collector/reports/figures.js'
import { DEFAULT_REPORT_RULES } from '../../collector/reports/rules.js'
import { seededStores, type StoresFixture } from './report-fixtures.js'
import { backends } from '../helpers/stores.js'

/** The targets as a store holds them (seeded from seeds/targets), read back by each test block's store. */
let entries: TargetEntry[]

type Line = { connectionClass: string, category: string, legacyProvinceCode: string | null, unitType?: string | null, highTechZone?: string | null }
const ids = (line: Line, year: number): Array<[string, string]> =>
  targetsForLine(entries, { unitType: 'phường', ...line }, year).filter((t) => t.outOfScope === null).map((t) => [t.entry.id, t.yearRule])
const outside = (line: Line, year: number): Array<[string, string, string]> =>
  targetsForLine(entries, { unitType: 'phường', ...line }, year).filter((t) => t.outOfScope !== null).map((t) => [t.entry.id, t.outOfScope!.reason, t.outOfScope!.value])

describe.each(backends)('targets as stored ($name)', ({ open }) => {
  let f: StoresFixture
  beforeAll(async () => { f = await seededStores(open); entries = await loadTargetEntries(f.stores.geo) })
  afterAll(async () => { await f?.close() })

  describe('which targets a line is held against', () => {
    it('a fixed organisation line in an urban ward of former Bắc Ninh (27) in 2026: QĐ 36 and Kế hoạch 333, plus the 2030 goal', () => {
      const line = { connectionClass: 'fixed', category: 'organisation', legacyProvinceCode: '27' }
      expect(ids(line, 2026)).toEqual([
        ['bn333-2025-organisation', 'latest_before'],
        ['national-2030-fixed-1gbps', 'horizon'],
        ['qd36-2025-organisation', 'latest_before']
      ])
      // The household and individual targets are relevant to a fixed line but count households only.
      // The high-tech-zone targets count agencies in a zone only: this one is in none.
      expect(outside(line, 2026)).toEqual([
        ['bn333-2025-fixed-individual', 'category', 'organisation'],
        ['bn333-2025-high-tech-zone', 'high_tech_zone', 'none'],
        ['qd36-2025-fixed-household', 'category', 'organisation'],
        ['qd36-2025-high-tech-zone', 'high_tech_zone', 'none']
      ])
    })

    it('QĐ 36 and Kon Tum 2391 count organisations in urban areas only: a xã or đặc khu is left out, Bắc Ninh 333 (no such limit) keeps it', () => {
      for (const unitType of ['xã', 'đặc khu', null]) {
        const kt = { connectionClass: 'fixed', category: 'organisation', legacyProvinceCode: '62', unitType }
        expect(ids(kt, 2025)).toEqual([['kt2391-2030-fixed-1gbps', 'horizon'], ['national-2030-fixed-1gbps', 'horizon']])
        expect(outside(kt, 2025)).toEqual([
          ['kt2391-2025-fixed-household', 'category', 'organisation'],
          ['kt2391-2025-organisation', 'unit_type', unitType ?? 'unknown'],
          ['qd36-2025-fixed-household', 'category', 'organisation'],
          ['qd36-2025-high-tech-zone', 'high_tech_zone', 'none'],
          ['qd36-2025-organisation', 'unit_type', unitType ?? 'unknown']
        ])
      }
      expect(ids({ connectionClass: 'fixed', category: 'organisation', legacyProvinceCode: '27', unitType: 'xã' }, 2025).map(([id]) => id)).toContain('bn333-2025-organisation')
    })

    it('Cà Mau 4G follows the plan year by year, then keeps the last stated year', () => {
      const line = { connectionClass: '4g', category: 'public_access_point', legacyProvinceCode: '96' }
      expect(ids(line, 2023)).toContainEqual(['cm250-2023-mobile-4g', 'exact'])
      expect(ids(line, 2024)).toContainEqual(['cm250-2024-mobile-4g', 'exact'])
      expect(ids(line, 2026)).toContainEqual(['cm250-2025-mobile-4g', 'latest_before'])
      expect(ids(line, 2026).filter(([id]) => id.startsWith('cm250'))).toHaveLength(1)
    })

    it('Tuyên Quang fixed lines are held against an i-Speed area average, not a share of lines', () => {
      const t = targetsForLine(entries, { connectionClass: 'fixed', category: 'organisation', legacyProvinceCode: '08', unitType: 'xã' }, 2025)
        .find((x) => x.entry.id === 'tq24-2025-fixed-ispeed')
      expect(t?.entry.statistic).toBe('ispeed_area_mean_at_least')
      expect(t?.entry.thresholdMbps).toBe(120)
      expect(t?.outOfScope).toBeNull()
    })

    it('area indicators (QĐ 912 shares) are never selected per line, high-tech-zone targets only for agencies in a zone; other provinces get national targets only', () => {
      const all = ids({ connectionClass: 'leased_line', category: 'organisation', legacyProvinceCode: '01' }, 2026).map(([id]) => id)
      expect(all).toEqual(['national-2030-fixed-1gbps', 'qd36-2025-organisation'])
    })
  })

  /** An agent with the given representative samples, office hours only. */
  function agent (id: string, agencyId: string, samples: number[]): AgentAggregate {
    const s = Float64Array.from(samples).sort()
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length
    return { agentId: id, agencyId, connectionClass: 'fixed', isp: 'VNPT', legacyProvinceCode: '08', parts: [s], n: s.length, sum: mean * s.length, officeN: s.length, meanDown: mean, medianDown: s[Math.floor(s.length / 2)]!, officeP20: null, officeMedian: null }
  }

  describe('the statistic decides how a target is computed', () => {
    // Six lines: three fast (200 samples of 150 Mbps each), three slow (60 samples of 40 Mbps each).
    // Pooled representative samples: 600 x 150 and 180 x 40 -> mean (90,000 + 7,200) / 780 = 124.615..., median 150
    // Mean of line means: (3 x 150 + 3 x 40) / 6 = 95. Lines meeting 120 Mbps on their mean: 3 of 6 = 0.5
    const agents = [
      ...[1, 2, 3].map((i) => agent(`fast${i}`, `g${i}`, Array(200).fill(150))),
      ...[4, 5, 6].map((i) => agent(`slow${i}`, `g${i}`, Array(60).fill(40)))
    ]
    const tq = (): TargetEntry => entries.find((t) => t.id === 'tq24-2025-fixed-ispeed') as TargetEntry
    const sel = (entry: TargetEntry): { entry: TargetEntry, yearRule: 'exact', outOfScope: null } => ({ entry, yearRule: 'exact', outOfScope: null })

    it('Tuyên Quang 120 Mbps i-Speed figure: the mean of representative samples (not of line means), met', () => {
      const e = evaluateTarget(sel(tq()), 'why', agents, DEFAULT_REPORT_RULES)
      expect(e.figure).toEqual({ value: 124.62, n: 780, minN: 300, basis: 'representative_samples', status: 'ok' })
      expect(e.exact).toBeCloseTo(97_200 / 780, 12)
      expect(e.figureMedian?.value).toBe(150)
      expect(e.met).toBe(true) // the mean of line means, 95, would have failed it
      expect(e.shareOfAgentsMeeting.value).toBe(0.5) // shown beside, not judged on
    })

    it('the same data against a QĐ 36-style share-of-lines target at 120 Mbps / 90 %: not met', () => {
      const shareTarget: TargetEntry = { ...tq(), id: 'share-test', statistic: 'share_of_lines_mean_at_least', requiredShare: 0.9 }
      const e = evaluateTarget(sel(shareTarget), 'why', agents, DEFAULT_REPORT_RULES)
      expect(e.figure).toEqual({ value: 0.5, n: 6, minN: 5, basis: 'agents', status: 'ok' })
      expect(e.met).toBe(false)
    })

    it('below 300 representative samples the i-Speed figure is withheld', () => {
      const e = evaluateTarget(sel(tq()), 'why', agents.slice(3), DEFAULT_REPORT_RULES)
      expect(e.figure).toMatchObject({ value: null, n: 180, status: 'insufficient_data' })
      expect(e.exact).toBeNull()
      expect(e.met).toBeNull()
    })

    it('judges the unrounded value: a mean of 79.996 Mbps shows as 80 and does not meet 80', () => {
      const eighty: TargetEntry = { ...tq(), id: 'eighty', thresholdMbps: 80 }
      // samples 79.992 and 80.000: mean 159.992 / 2 = 79.996
      const e = evaluateTarget(sel(eighty), 'why', [agent('a', 'g', [79.992, 80])], { ...DEFAULT_REPORT_RULES, minRepresentativeSamples: 2 })
      expect(e.figure.value).toBe(80)
      expect(e.exact).toBeCloseTo(79.996, 12)
      expect(e.met).toBe(false)
      // A share of 0.8999 against 90 % is the same: 8999 of 10000 lines is not 90 %.
      const share: TargetEntry = { ...tq(), id: 'share', statistic: 'share_of_lines_mean_at_least', thresholdMbps: 100, requiredShare: 0.9 }
      const lines = Array.from({ length: 10_000 }, (_, i) => agent(`l${i}`, `g${i}`, [i < 8999 ? 100 : 50]))
      const s = evaluateTarget(sel(share), 'why', lines, DEFAULT_REPORT_RULES)
      expect(s.figure.value).toBe(0.8999)
      expect(s.met).toBe(false)
    })

    it('counts the lines outside a target scope, by reason, and never judges them', () => {
      // Kon Tum: an urban organisation (phường, 1200 Mbps), a rural one (xã, 1500 Mbps), a public access point (phường, 300 Mbps).
      const line = (id: string, mean: number): AgentAggregate => ({ ...agent(id, id, [mean]), legacyProvinceCode: '62' })
      const info: Record<string, { category: string, unitType: string }> = {
        urban: { category: 'organisation', unitType: 'phường' },
        rural: { category: 'organisation', unitType: 'xã' },
        pap: { category: 'public_access_point', unitType: 'phường' }
      }
      const evals = evaluateTargets([line('urban', 1200), line('rural', 1500), line('pap', 300)], {
        entries,
        year: 2025,
        rules: { ...DEFAULT_REPORT_RULES, minAgents: 1 },
        categoryOf: (id) => info[id]?.category,
        unitTypeOf: (id) => info[id]?.unitType ?? null,
        provinceName: () => 'Kon Tum'
      })
      const org = evals.find((e) => e.targetId === 'kt2391-2025-organisation')!
      expect(org.agents).toBe(1) // the urban organisation only: 1200 >= 1000 -> share 1
      expect(org.figure.value).toBe(1)
      expect(org.leftOut).toEqual({
        agents: 2,
        agencies: 2,
        reasons: [{ reason: 'category', value: 'public_access_point', agents: 1, agencies: 1 }, { reason: 'unit_type', value: 'xã', agents: 1, agencies: 1 }]
      })
      const hh = evals.find((e) => e.targetId === 'kt2391-2025-fixed-household')!
      expect(hh.agents).toBe(0)
      expect(hh.figure.status).toBe('no_data')
      expect(hh.met).toBeNull()
      expect(hh.leftOut.agents).toBe(3)
    })
  })

  describe('high-tech zones: every line of an agency in a zone at a minimum of 1 Gb/s', () => {
    // Former Bắc Ninh (27), 2025. Representative samples of each line, by hand:
    //   z1 in a zone, leased:      1100, 1050, 1200 -> minimum 1050 >= 1000: meets
    //   z2 in a zone, leased:      1300,  980, 1250 -> minimum  980 <  1000: fails (its mean, 1176.67, would pass)
    //   z3 in a zone, leased:      1000, 1000       -> minimum 1000 >= 1000: meets (at least, not above)
    //   pap in a zone, public access point: 500     -> minimum  500: fails
    //   out not in a zone, leased: 1500             -> left out (reason high_tech_zone), never judged
    // In-zone lines 4, meeting 2: share 2 / 4 = 0.5 against a required 100 %: not met.
    const line = (id: string, samples: number[]): AgentAggregate => ({ ...agent(id, id, samples), connectionClass: 'leased_line', legacyProvinceCode: '27' })
    const lines = [line('z1', [1100, 1050, 1200]), line('z2', [1300, 980, 1250]), line('z3', [1000, 1000]), line('pap', [500]), line('out', [1500])]
    const info: Record<string, { category: string, zone: string | null }> = {
      z1: { category: 'organisation', zone: 'Khu công nghệ cao A' },
      z2: { category: 'organisation', zone: 'Khu công nghệ cao A' },
      z3: { category: 'organisation', zone: 'Khu CNTT tập trung B' },
      pap: { category: 'public_access_point', zone: 'Khu công nghệ cao A' },
      out: { category: 'organisation', zone: null }
    }
    const run = (minAgents: number): ReturnType<typeof evaluateTargets> => evaluateTargets(lines, {
      entries,
      year: 2025,
      rules: { ...DEFAULT_REPORT_RULES, minAgents },
      categoryOf: (id) => info[id]?.category,
      unitTypeOf: () => 'phường',
      highTechZoneOf: (id) => info[id]?.zone ?? null,
      provinceName: () => 'Bắc Ninh'
    })

    it('judges the share of in-zone lines whose minimum reaches 1,000 Mbps, with n; lines outside a zone are counted as left out', () => {
      for (const id of ['bn333-2025-high-tech-zone', 'qd36-2025-high-tech-zone']) {
        const e = run(4).find((x) => x.targetId === id)!
        expect(e.statistic).toBe('share_of_lines_min_at_least')
        expect(e.appliesTo.inHighTechZone).toBe(true)
        expect(e.agents).toBe(4)
        expect(e.figure).toEqual({ value: 0.5, n: 4, minN: 4, basis: 'agents', status: 'ok' })
        expect(e.exact).toBe(0.5)
        expect(e.requiredShare).toBe(1)
        expect(e.met).toBe(false)
        expect(e.leftOut).toEqual({ agents: 1, agencies: 1, reasons: [{ reason: 'high_tech_zone', value: 'none', agents: 1, agencies: 1 }] })
      }
      // The organisations target of the same plan judges means: z1 1116.67, z2 1176.67, z3 1000, out 1500 all reach 1,000 -> 4 / 4.
      const org = run(4).find((x) => x.targetId === 'bn333-2025-organisation')!
      expect(org.figure.value).toBe(1)
      expect(org.leftOut.reasons).toEqual([{ reason: 'category', value: 'public_access_point', agents: 1, agencies: 1 }])
    })

    it('below the publication minimum the share is withheld, n still given', () => {
      const e = run(5).find((x) => x.targetId === 'qd36-2025-high-tech-zone')!
      expect(e.figure).toEqual({ value: null, n: 4, minN: 5, basis: 'agents', status: 'insufficient_data' })
      expect(e.met).toBeNull()
    })

    it('with every in-zone line at or above 1,000 Mbps at its lowest sample the target is met', () => {
      const e = evaluateTargets([line('z1', [1100, 1050, 1200]), line('z3', [1000, 1000])], {
        entries,
        year: 2025,
        rules: { ...DEFAULT_REPORT_RULES, minAgents: 2 },
        categoryOf: () => 'organisation',
        unitTypeOf: () => 'xã',
        highTechZoneOf: () => 'Khu công nghệ cao A',
        provinceName: () => 'Bắc Ninh'
      }).find((x) => x.targetId === 'qd36-2025-high-tech-zone')!
      expect(e.figure.value).toBe(1)
      expect(e.met).toBe(true)
    })
  })
})
