import { TocdoError } from '../../shared/errors.js'

export interface RateLimiter {
  /** Counts a hit for `key`; throws TOCDO_ERR_RATE_LIMITED (429, with Retry-After) past the limit. */
  hit: (key: string) => void
}

/**
 * Sliding-window log per key (an agent id, a client address): a hit is allowed while fewer
 * than `max` allowed hits fall in the last `windowMs`, so no interval of that length ever
 * holds more than `max` (a fixed window lets twice the limit through across its edge, issue
 * 11). Refused hits are not recorded, so a client hammering past the limit is let in again
 * as soon as its oldest allowed hit leaves the window. In memory: a restart forgets the
 * counts, which only ever lets a little more through; keys idle for a whole window are
 * dropped, so memory stays bounded by the clients active in one window (max timestamps each).
 */
export function createRateLimiter ({ max, windowMs, what, now = Date.now }: {
  max: number
  windowMs: number
  /** For the message, e.g. "syncs per agent". */
  what: string
  now?: () => number
}): RateLimiter {
  const hits = new Map<string, number[]>()
  let lastSweep = now()
  return {
    hit (key) {
      const t = now()
      if (t - lastSweep >= windowMs) {
        for (const [k, times] of hits) if ((times[times.length - 1] ?? -Infinity) <= t - windowMs) hits.delete(k)
        lastSweep = t
      }
      let times = hits.get(key)
      if (times === undefined) { times = []; hits.set(key, times) }
      while (times.length > 0 && (times[0] as number) <= t - windowMs) times.shift()
      if (times.length >= max) {
        const retryAfterS = Math.max(1, Math.ceil(((times[0] as number) + windowMs - t) / 1000))
        throw new TocdoError('TOCDO_ERR_RATE_LIMITED', `more than ${max} ${what} in ${Math.round(windowMs / 1000)} s; retry after ${retryAfterS} s`, { details: { retryAfterS } })
      }
      times.push(t)
    }
  }
}
