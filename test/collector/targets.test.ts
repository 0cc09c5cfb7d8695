import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadTargetEntries, targetsForLine, type TargetEntry } from '../../collector/targets/targets.js'
import { evaluateTarget, type AgentAggregate } from '../../collector/reports/figures.js'
import { DEFAULT_REPORT_RULES } from '../../collector/reports/rules.js'
import { seededDb, type Fixture } from './report-fixtures.js'

let f: Fixture
let entries: TargetEntry[]
beforeAll(() => { f = seededDb(); entries = loadTargetEntries(f.db) })
afterAll(() => { f.close() })

const ids = (line: { connectionClass: string, category: string, legacyProvinceCode: string | null }, year: number): Array<[string, string]> =>
  targetsForLine(entries, line, year).map((t) => [t.entry.id, t.yearRule])

describe('which targets a line is held against', () => {
  it('a fixed organisation line in former Bắc Ninh (27) in 2026: QĐ 36 and Kế hoạch 333, plus the 2030 goal', () => {
    expect(ids({ connectionClass: 'fixed', category: 'organisation', legacyProvinceCode: '27' }, 2026)).toEqual([
      ['bn333-2025-organisation', 'latest_before'],
      ['national-2030-fixed-1gbps', 'horizon'],
      ['qd36-2025-organisation', 'latest_before']
    ])
  })

  it('Cà Mau 4G follows the plan year by year, then keeps the last stated year', () => {
    const line = { connectionClass: '4g', category: 'public_access_point', legacyProvinceCode: '96' }
    expect(ids(line, 2023)).toContainEqual(['cm250-2023-mobile-4g', 'exact'])
    expect(ids(line, 2024)).toContainEqual(['cm250-2024-mobile-4g', 'exact'])
    expect(ids(line, 2026)).toContainEqual(['cm250-2025-mobile-4g', 'latest_before'])
    expect(ids(line, 2026).filter(([id]) => id.startsWith('cm250'))).toHaveLength(1)
  })

  it('Tuyên Quang fixed lines are held against an i-Speed province figure, not a share of lines', () => {
    const t = targetsForLine(entries, { connectionClass: 'fixed', category: 'organisation', legacyProvinceCode: '08' }, 2025)
      .find((x) => x.entry.id === 'tq24-2025-fixed-ispeed')
    expect(t?.entry.statistic).toBe('ispeed_province_download_at_least')
    expect(t?.entry.thresholdMbps).toBe(120)
  })

  it('area indicators (high-tech zones, QĐ 912 shares) are never selected per line; other provinces get national targets only', () => {
    const all = ids({ connectionClass: 'leased_line', category: 'organisation', legacyProvinceCode: '01' }, 2026).map(([id]) => id)
    expect(all).toEqual(['national-2030-fixed-1gbps', 'qd36-2025-organisation'])
  })
})

/** An agent with the given representative samples, office hours only. */
function agent (id: string, agencyId: string, samples: number[]): AgentAggregate {
  const s = Float64Array.from(samples).sort()
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length
  return { agentId: id, agencyId, connectionClass: 'fixed', legacyProvinceCode: '08', parts: [s], n: s.length, sum: mean * s.length, officeN: s.length, meanDown: mean, medianDown: s[Math.floor(s.length / 2)]!, officeP20: null, officeMedian: null }
}

describe('the statistic decides how a target is computed', () => {
  // Six lines: three fast (200 samples of 150 Mbps each), three slow (60 samples of 40 Mbps each).
  // Pooled representative samples: 600 x 150 and 180 x 40 -> median 150, mean (90,000 + 7,200) / 780 = 124.6
  // Lines meeting 120 Mbps on their mean: 3 of 6 = 0.5
  const agents = [
    ...[1, 2, 3].map((i) => agent(`fast${i}`, `g${i}`, Array(200).fill(150))),
    ...[4, 5, 6].map((i) => agent(`slow${i}`, `g${i}`, Array(60).fill(40)))
  ]
  const tq = (): TargetEntry => entries.find((t) => t.id === 'tq24-2025-fixed-ispeed') as TargetEntry

  it('Tuyên Quang 120 Mbps i-Speed figure: the median of representative samples, met', () => {
    const e = evaluateTarget({ entry: tq(), yearRule: 'exact' }, 'why', agents, DEFAULT_REPORT_RULES)
    expect(e.figure).toEqual({ value: 150, n: 780, minN: 300, basis: 'representative_samples', status: 'ok' })
    expect(e.figureMean?.value).toBe(124.62)
    expect(e.met).toBe(true)
    expect(e.shareOfAgentsMeeting.value).toBe(0.5) // shown beside, not judged on
  })

  it('the same data against a QĐ 36-style share-of-lines target at 120 Mbps / 90 %: not met', () => {
    const shareTarget: TargetEntry = { ...tq(), id: 'share-test', statistic: 'share_of_lines_mean_at_least', requiredShare: 0.9 }
    const e = evaluateTarget({ entry: shareTarget, yearRule: 'exact' }, 'why', agents, DEFAULT_REPORT_RULES)
    expect(e.figure).toEqual({ value: 0.5, n: 6, minN: 5, basis: 'agents', status: 'ok' })
    expect(e.met).toBe(false)
  })

  it('below 300 representative samples the i-Speed figure is withheld', () => {
    const e = evaluateTarget({ entry: tq(), yearRule: 'exact' }, 'why', agents.slice(3), DEFAULT_REPORT_RULES)
    expect(e.figure).toMatchObject({ value: null, n: 180, status: 'insufficient_data' })
    expect(e.met).toBeNull()
  })
})
