import { describe, expect, it } from 'vitest'
import { ClockEstimator } from '../../agent/sync/clock-estimator.js'

describe('clock offset estimate', () => {
  it('offset = serverTime − (tSend + rtt/2), median of the last 5 accepted samples', () => {
    let mono = 0
    const e = new ClockEstimator(() => mono)
    expect(e.get()).toEqual({ offsetMs: null, sinceSyncS: null })
    // Agent 1 day behind: server reads tSend + 1 d + rtt/2.
    const day = 86_400_000
    for (const [rtt, noise] of [[100, 0], [200, 40], [50, -30], [300, 10], [80, 5000]] as const) {
      expect(e.add(1000, rtt, 1000 + day + rtt / 2 + noise)).toBe(true)
    }
    expect(e.get().offsetMs).toBe(day + 10)
    mono += 42_000
    expect(e.get().sinceSyncS).toBe(42)
  })

  it('refuses samples with a round trip over 1 s and keeps only the last 5', () => {
    let mono = 0
    const e = new ClockEstimator(() => mono)
    expect(e.add(0, 1001, 5000)).toBe(false)
    expect(e.get().offsetMs).toBeNull()
    for (let i = 0; i < 5; i++) e.add(0, 0, 100)
    for (let i = 0; i < 3; i++) e.add(0, 0, -900)
    expect(e.get().offsetMs).toBe(-900)
    mono = 5000
    e.add(0, 0, 100)
    expect(e.get().sinceSyncS).toBe(0)
    // A wall-clock step (here a day back) replaces the estimate at once instead of waiting for the median to turn.
    e.add(0, 0, 86_400_000)
    expect(e.get().offsetMs).toBe(86_400_000)
    e.reset()
    expect(e.get()).toEqual({ offsetMs: null, sinceSyncS: null })
  })
})
