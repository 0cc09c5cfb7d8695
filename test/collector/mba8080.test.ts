import { describe, expect, it } from 'vitest'
import { mba8080 } from '../../collector/reports/mba8080.js'
import type { AgentAggregate } from '../../collector/reports/figures.js'
import { DEFAULT_REPORT_RULES } from '../../collector/reports/rules.js'

/** A line whose office-hours samples have the given 20th percentile. */
const line = (id: string, isp: string, officeP20: number, officeN = 40, connectionClass = 'fixed'): AgentAggregate => ({
  agentId: id, agencyId: id, connectionClass, isp, legacyProvinceCode: '62', parts: [], n: officeN, sum: 0, officeN, meanDown: null, medianDown: null, officeP20, officeMedian: null
})

describe('80/80 as FCC MBA defines it: per ISP and plan tier, as a share of the plan speed at peak hours', () => {
  // VNPT 300 Mb/s tier, five lines: office-hours p20 of 270, 240, 300, 150, 285 Mb/s
  //   ratios 0.9, 0.8, 1.0, 0.5, 0.95 -> sorted 0.5 0.8 0.9 0.95 1.0; p20 (type 7): rank 0.2 x 4 = 0.8
  //   -> 0.5 + 0.8 x (0.8 - 0.5) = 0.74, i.e. 74 % of 300 = 222 Mb/s
  // VNPT 1000 tier, two lines (fewer than 5: withheld); Viettel 300, one line with 10 office samples (< 20: not counted)
  const plan: Record<string, number | null> = { a: 300, b: 300, c: 300, d: 300, e: 300, f: 1000, g: 1000, h: 300, i: null }
  const lines = [
    line('a', 'VNPT', 270), line('b', 'VNPT', 240), line('c', 'VNPT', 300), line('d', 'VNPT', 150), line('e', 'VNPT', 285),
    line('f', 'VNPT', 900), line('g', 'VNPT', 950),
    line('h', 'Viettel', 280, 10),
    line('i', 'FPT', 100)
  ]
  const r = mba8080(lines, (id) => plan[id] ?? null, DEFAULT_REPORT_RULES)

  it('gives each ISP and tier its own figure, in % of the plan, with n and the minimum', () => {
    expect(r.peakPeriod.band).toBe('office')
    expect(r.withoutPlan).toBe(1) // FPT line: no plan speed recorded, no tier
    const vnpt300 = r.tiers.find((t) => t.isp === 'VNPT' && t.planDownMbps === 300)!
    expect(vnpt300.shareOfPlan).toEqual({ value: 0.74, n: 5, minN: 5, basis: 'agents', status: 'ok' })
    expect(vnpt300.mbps.value).toBe(222)
    expect(vnpt300.agentsInTier).toBe(5)
    const vnpt1000 = r.tiers.find((t) => t.isp === 'VNPT' && t.planDownMbps === 1000)!
    expect(vnpt1000.shareOfPlan).toMatchObject({ value: null, n: 2, status: 'insufficient_data' })
    const viettel = r.tiers.find((t) => t.isp === 'Viettel')!
    expect(viettel).toMatchObject({ agents: 0, agentsInTier: 1 })
    expect(viettel.shareOfPlan.status).toBe('no_data')
  })

  it('never mixes tiers: a 1 Gb/s line and a 300 Mb/s line are not in one figure', () => {
    expect(r.tiers.map((t) => [t.isp, t.planDownMbps])).toEqual([['Viettel', 300], ['VNPT', 300], ['VNPT', 1000]])
  })
})
