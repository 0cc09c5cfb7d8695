import type { RateLimit, RateLimitDecision, RateLimitStore } from '../stores.js'

/**
 * The embedded store's rate limits, in the collector's memory: one SQLite file has one
 * collector, so nothing else needs to see them, and keeping them off the disk spares a write
 * per request. Sliding-window log per key: a hit is allowed while fewer than `max` allowed hits
 * fall in the last `windowMs`, so no interval of that length ever holds more than `max` (a
 * fixed window lets twice the limit through across its edge). A restart forgets the counts,
 * which only ever lets a little more through; keys idle for a whole window are dropped, so
 * memory stays bounded by the clients active in one window (`max` timestamps each).
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #limits = new Map<string, { hits: Map<string, number[]>, lastSweep: number }>()

  async hit (limit: RateLimit, key: string, at: number): Promise<RateLimitDecision> {
    const { max, windowMs } = limit
    let state = this.#limits.get(limit.name)
    if (state === undefined) { state = { hits: new Map(), lastSweep: at }; this.#limits.set(limit.name, state) }
    if (at - state.lastSweep >= windowMs) {
      for (const [k, times] of state.hits) if ((times[times.length - 1] ?? -Infinity) <= at - windowMs) state.hits.delete(k)
      state.lastSweep = at
    }
    let times = state.hits.get(key)
    if (times === undefined) { times = []; state.hits.set(key, times) }
    while (times.length > 0 && (times[0] as number) <= at - windowMs) times.shift()
    if (times.length >= max) return { allowed: false, retryAt: (times[0] as number) + windowMs }
    times.push(at)
    return { allowed: true }
  }
}
