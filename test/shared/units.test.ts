import { describe, expect, it } from 'vitest'
import { bytesAndMsToMbps, bytesAndSecondsToMbps, bytesPerSecondToMbps, mbpsToBytesPerSecond, nsToMs, round } from '../../shared/units.js'

describe('shared/units', () => {
  it('converts bytes and time to decimal megabits per second', () => {
    // 12,500,000 bytes in 1 s = 100,000,000 bit/s = 100 Mbps
    expect(bytesAndSecondsToMbps(12_500_000, 1)).toBe(100)
    expect(bytesAndMsToMbps(125_000_000, 10_000)).toBe(100)
    expect(bytesPerSecondToMbps(125_000)).toBe(1)
    expect(mbpsToBytesPerSecond(8)).toBe(1_000_000)
  })

  it('returns null instead of Infinity or NaN for a zero or bad interval', () => {
    expect(bytesAndMsToMbps(100, 0)).toBeNull()
    expect(bytesAndMsToMbps(-1, 100)).toBeNull()
  })

  it('converts nanoseconds and rounds', () => {
    expect(nsToMs(1_500_000n)).toBe(1.5)
    expect(round(1.23456, 2)).toBe(1.23)
  })
})
