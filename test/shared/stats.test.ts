import { describe, expect, it } from 'vitest'
import {
  coefficientOfVariation, interquartileMean, mean, meanAbsoluteDelta, median, min, max, percentile,
  rfc3550Jitter, stddev, trimmedMean
} from '../../shared/stats.js'

// Every expected value below is worked out by hand in the comment beside it.
describe('shared/stats', () => {
  const xs = [10, 20, 30, 40, 50]

  it('mean() and median() of odd and even series', () => {
    expect(mean(xs)).toBe(30) // 150 / 5
    expect(median(xs)).toBe(30) // middle of 5
    expect(median([4, 1, 3, 2])).toBe(2.5) // sorted 1 2 3 4 → (2 + 3) / 2
    expect(median([7])).toBe(7)
  })

  it('returns null, never 0, for an empty series', () => {
    expect(mean([])).toBeNull()
    expect(median([])).toBeNull()
    expect(percentile([], 90)).toBeNull()
    expect(interquartileMean([])).toBeNull()
    expect(min([])).toBeNull()
    expect(max([])).toBeNull()
    expect(meanAbsoluteDelta([5])).toBeNull()
  })

  it('percentile() interpolates between closest ranks (type 7)', () => {
    // rank = p/100 × (n − 1): p90 of 5 values → rank 3.6 → 40 + 0.6 × (50 − 40) = 46
    expect(percentile(xs, 90)).toBeCloseTo(46, 10)
    // p20 → rank 0.8 → 10 + 0.8 × 10 = 18
    expect(percentile(xs, 20)).toBeCloseTo(18, 10)
    expect(percentile(xs, 0)).toBe(10)
    expect(percentile(xs, 100)).toBe(50)
    // Same as Excel PERCENTILE.INC({1,2,3,4,5,6,7,8,9,10}, 0.25) = 3.25
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 25)).toBeCloseTo(3.25, 10)
    expect(() => percentile(xs, 101)).toThrow(RangeError)
  })

  it('interquartileMean() drops a quarter from each end, with fractional edges', () => {
    // n = 8: drop 2 from each end → mean(3, 4, 5, 6) = 4.5
    expect(interquartileMean([1, 2, 3, 4, 5, 6, 7, 8])).toBe(4.5)
    // n = 5: drop 1.25 each end → (0.75 × 2 + 3 + 0.75 × 4) / 2.5 = 7.5 / 2.5 = 3
    expect(interquartileMean([1, 2, 3, 4, 5])).toBeCloseTo(3, 10)
    // n = 6, skewed: drop 1.5 each end → (0.5 × 2 + 3 + 4 + 0.5 × 100) / 3 = 58 / 3
    expect(interquartileMean([1, 2, 3, 4, 100, 1000])).toBeCloseTo(58 / 3, 10)
    // fewer than 4 values: plain mean
    expect(interquartileMean([1, 2, 6])).toBe(3)
  })

  it('stddev() and coefficientOfVariation() are population figures', () => {
    // mean 5; squared deviations 9 1 1 9 → 20 / 4 = 5 → sd √5
    expect(stddev([2, 4, 6, 8])).toBeCloseTo(Math.sqrt(5), 10)
    expect(coefficientOfVariation([2, 4, 6, 8])).toBeCloseTo(Math.sqrt(5) / 5, 10)
    expect(coefficientOfVariation([0, 0])).toBeNull()
  })

  it('meanAbsoluteDelta() is the mean |Δ| of consecutive samples (Cloudflare jitter)', () => {
    // |12−10| + |11−12| + |15−11| = 2 + 1 + 4 = 7 over 3 deltas
    expect(meanAbsoluteDelta([10, 12, 11, 15])).toBeCloseTo(7 / 3, 10)
  })

  it('rfc3550Jitter() smooths |D| with gain 1/16', () => {
    // J1 = 0 + (2 − 0)/16 = 0.125; J2 = 0.125 + (1 − 0.125)/16 = 0.1796875
    expect(rfc3550Jitter([10, 12, 11])).toBeCloseTo(0.1796875, 10)
  })

  it('trimmedMean() drops the slowest 30 % and fastest 10 % (legacy Ookla)', () => {
    const twenty = Array.from({ length: 20 }, (_, i) => i + 1) // 1..20
    // drop 6 lowest (1..6) and 2 highest (19, 20) → mean(7..18) = 12.5
    expect(trimmedMean(twenty, 0.3, 0.1)).toBe(12.5)
  })

  it('refuses non-finite input instead of returning a wrong figure', () => {
    expect(() => median([1, Number.NaN])).toThrow(RangeError)
  })
})
