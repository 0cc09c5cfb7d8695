import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { createRateLimiter } from '../../collector/fleet/rate-limit.js'

/** The limiter takes its clock as a parameter; these tests drive it with a fake one. */
function limiter (max: number, windowMs: number) {
  let t = 0
  const l = createRateLimiter({ max, windowMs, what: 'hits', now: () => t })
  return {
    at: (ms: number): boolean => {
      t = ms
      try { l.hit('k'); return true } catch { return false }
    }
  }
}

describe('createRateLimiter() sliding window', () => {
  it('lets at most max through across a window edge, where a fixed window lets 2 × max', () => {
    const l = limiter(10, 60_000)
    const late = Array.from({ length: 10 }, (_, i) => l.at(59_000 + i))
    const early = Array.from({ length: 10 }, (_, i) => l.at(60_001 + i))
    expect(late.filter(Boolean)).toHaveLength(10)
    expect(early.filter(Boolean)).toHaveLength(0)
    // Once the first of them leaves the window, one more is let in.
    expect(l.at(119_000)).toBe(true)
    expect(l.at(119_000)).toBe(false)
  })

  it('the 429 says when to come back: when the oldest counted hit leaves the window', () => {
    let t = 0
    const l = createRateLimiter({ max: 2, windowMs: 60_000, what: 'enrolment attempts per address', now: () => t })
    l.hit('a'); t = 10_000; l.hit('a'); t = 20_000
    expect(() => { l.hit('a') }).toThrow(expect.objectContaining({ code: 'TOCDO_ERR_RATE_LIMITED', details: { retryAfterS: 40 } }))
    // Another key has its own window.
    expect(() => { l.hit('b') }).not.toThrow()
  })

  it('no window of length W ever holds more than max allowed hits (any arrival pattern)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 10, max: 1000 }), fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 200 }), (max, windowMs, gaps) => {
      const l = limiter(max, windowMs)
      let t = 0
      const allowed: number[] = []
      for (const g of gaps) { t += g; if (l.at(t)) allowed.push(t) }
      for (const a of allowed) expect(allowed.filter((b) => b > a - windowMs && b <= a).length).toBeLessThanOrEqual(max)
      // And it is not stricter than the limit: with nothing in the last window, a hit passes.
      expect(l.at(t + windowMs)).toBe(true)
    }))
  })
})
