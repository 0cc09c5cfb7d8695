import { TocdoError } from '../../shared/errors.js'

export interface RateLimiter {
  /** Counts a hit for `key`; throws TOCDO_ERR_RATE_LIMITED (429, with Retry-After) past the limit. */
  hit: (key: string) => void
}

/**
 * Fixed-window counter per key (an agent id, a source IP). In memory: a restart forgets
 * the counts, which only ever lets a little more through. Old windows are dropped as they
 * roll over, so memory stays bounded by the keys active in one window.
 */
export function createRateLimiter ({ max, windowMs, what, now = Date.now }: {
  max: number
  windowMs: number
  /** For the message, e.g. "syncs per agent". */
  what: string
  now?: () => number
}): RateLimiter {
  let windowStart = now()
  let counts = new Map<string, number>()
  return {
    hit (key) {
      const t = now()
      if (t - windowStart >= windowMs) {
        windowStart = t - ((t - windowStart) % windowMs)
        counts = new Map()
      }
      const n = (counts.get(key) ?? 0) + 1
      counts.set(key, n)
      if (n > max) {
        const retryAfterS = Math.max(1, Math.ceil((windowStart + windowMs - t) / 1000))
        throw new TocdoError('TOCDO_ERR_RATE_LIMITED', `more than ${max} ${what} in ${Math.round(windowMs / 1000)} s; retry after ${retryAfterS} s`, { details: { retryAfterS } })
      }
    }
  }
}
