import { describe, expect, it } from 'vitest'
import { clientLimitedReasons, confidenceOf, crossTrafficReason, FlagSet, localLinkReason, overallConfidence } from '../../agent/measure/validity.js'
import type { Direction } from '../../shared/schemas/result.js'

function dir (over: Partial<Direction> = {}): Direction {
  return {
    mbps: 100,
    streamsInitial: 4,
    streamsMax: 4,
    warmupEndS: 1,
    windowS: 9,
    durationS: 10,
    bytes: 125_000_000,
    meanWholeMbps: 95,
    p90_1sMbps: 102,
    trimmedMeanMbps: 99,
    min1sMbps: 97,
    cv1s: 0.02,
    countedAt: 'client',
    byteCapped: false,
    streamErrors: 0,
    loaded: null,
    cpu: { processBusyPct: 20, systemBusyPct: 30, eventLoopP99Ms: 5, calibratedCeilingMbps: null },
    rates1sMbps: [100, 100, 100, 100, 100, 100, 100, 100, 100],
    samples: { intervalMs: 100, cumulativeBytes: [], tMs: [] },
    ...over
  }
}

describe('client_limited (methodology.md §12)', () => {
  it('fires on process CPU, machine CPU, event-loop delay and the calibrated ceiling, each with its numbers', () => {
    expect(clientLimitedReasons('download', dir(), null)).toEqual([])
    expect(clientLimitedReasons('download', dir({ cpu: { processBusyPct: 95, systemBusyPct: 10, eventLoopP99Ms: 1, calibratedCeilingMbps: null } }), null)[0]).toMatch(/process CPU 95 %/)
    expect(clientLimitedReasons('upload', dir({ cpu: { processBusyPct: 1, systemBusyPct: 92, eventLoopP99Ms: 1, calibratedCeilingMbps: null } }), null)[0]).toMatch(/machine CPU 92 %/)
    expect(clientLimitedReasons('download', dir({ cpu: { processBusyPct: 1, systemBusyPct: 1, eventLoopP99Ms: 60, calibratedCeilingMbps: null } }), null)[0]).toMatch(/event-loop delay p99 60 ms/)
    expect(clientLimitedReasons('download', dir({ mbps: 800 }), 1000)[0]).toMatch(/≥ 80 % of this agent's calibrated loopback ceiling 1000 Mbps/)
    expect(clientLimitedReasons('download', dir({ mbps: 790 }), 1000)).toEqual([])
  })
})

describe('local_link_limited and cross_traffic', () => {
  it('flags a result at ≥ 90 % of the NIC speed', () => {
    expect(localLinkReason('download', 95, 100, 'eth0')).toMatch(/eth0 link speed 100 Mbps/)
    expect(localLinkReason('download', 80, 100, 'eth0')).toBeNull()
    expect(localLinkReason('download', 80, null, 'eth0')).toBeNull()
  })
  it('allows 5 % for headers and ACKs, or 2 Mbit/s', () => {
    expect(crossTrafficReason(104_000_000, 100_000_000, 10)).toBeNull()
    expect(crossTrafficReason(110_000_000, 100_000_000, 10)).toMatch(/10000000 extra bytes/)
    // Small test: 2 Mbit/s over 10 s = 2.5 MB of allowance dominates.
    expect(crossTrafficReason(3_000_000, 1_000_000, 10)).toBeNull()
    expect(crossTrafficReason(4_000_000, 1_000_000, 10)).not.toBeNull()
  })
})

describe('confidence (methodology.md §11)', () => {
  it('grades CV, caps a short window at medium and needs five 1-s samples', () => {
    expect(confidenceOf(0.1, 8, 8)).toBe('high')
    expect(confidenceOf(0.1, 5, 5)).toBe('medium')
    expect(confidenceOf(0.3, 8, 8)).toBe('medium')
    expect(confidenceOf(0.4, 8, 8)).toBe('low')
    expect(confidenceOf(0.01, 8, 4)).toBe('low')
    expect(confidenceOf(null, 8, 8)).toBe('low')
  })
  it('is the weakest direction, and low when the figure is disqualified', () => {
    expect(overallConfidence([dir(), dir({ cv1s: 0.3 })], [])).toBe('medium')
    expect(overallConfidence([dir()], ['client_limited'])).toBe('low')
    expect(overallConfidence([dir()], ['degraded'])).toBe('medium')
    expect(overallConfidence([], [])).toBeNull()
  })
  it('records every firing with its reason', () => {
    const f = new FlagSet()
    f.add('unstable', 'a')
    f.add('unstable', 'b')
    expect(f.flags).toEqual(['unstable'])
    expect(f.reasons).toHaveLength(2)
  })
})
