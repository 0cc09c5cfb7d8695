import { describe, expect, it } from 'vitest'
import { bytesAndMsToMbps, round } from '../../shared/units.js'

describe('shared/units', () => {
  it('converts bytes and time to decimal megabits per second', () => {
    // 125,000,000 bytes in 10 s = 100,000,000 bit/s = 100 Mbps
    expect(bytesAndMsToMbps(125_000_000, 10_000)).toBe(100)
    expect(bytesAndMsToMbps(125_000, 1000)).toBe(1)
  })

  it('returns null instead of Infinity or NaN for a zero or bad interval', () => {
    expect(bytesAndMsToMbps(100, 0)).toBeNull()
    expect(bytesAndMsToMbps(-1, 100)).toBeNull()
  })

  it('rounds', () => {
    expect(round(1.23456, 2)).toBe(1.23)
  })
})
