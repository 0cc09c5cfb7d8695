import { TocdoError } from '../../shared/errors.js'
import type { RateLimit, RateLimitStore } from '../storage/stores.js'

export interface RateLimiter {
  /** Counts a hit for `key`; rejects with TOCDO_ERR_RATE_LIMITED (429, with Retry-After) past the limit. */
  hit: (key: string) => Promise<void>
}

/**
 * A rate limit per key (an agent id, a client address) over the stores' rate-limit state: a
 * sliding window (no interval of `windowMs` ever holds more than `max` allowed hits; a fixed
 * window lets twice the limit through across its edge, issue 11). On PostgreSQL the state is
 * shared, so the limit holds across every collector on the database; on the embedded store it
 * is the one collector's memory (storage/sqlite/rate-limits.ts).
 */
export function createRateLimiter ({ store, what, now = Date.now, ...limit }: RateLimit & {
  store: RateLimitStore
  /** For the message, e.g. "syncs per agent". */
  what: string
  now?: () => number
}): RateLimiter {
  return {
    async hit (key) {
      const t = now()
      const decision = await store.hit(limit, key, t)
      if (decision.allowed) return
      const retryAfterS = Math.max(1, Math.ceil((decision.retryAt - t) / 1000))
      throw new TocdoError('TOCDO_ERR_RATE_LIMITED', `more than ${limit.max} ${what} in ${Math.round(limit.windowMs / 1000)} s; retry after ${retryAfterS} s`, { details: { retryAfterS } })
    }
  }
}
