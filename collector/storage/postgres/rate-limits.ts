import type { RateLimit, RateLimitDecision, RateLimitStore } from '../stores.js'
import type { Pool } from './pool.js'

/**
 * The rate limits on PostgreSQL, shared by every collector on the database (migration 044): each
 * hit is decided and recorded by one statement on the key's row, which PostgreSQL locks for
 * it, so hits arriving at several collectors at once are counted one after the other and their
 * sum keeps the limit. The same sliding-window log as the embedded store
 * (sqlite/rate-limits.ts): allowed while fewer than `max` allowed hits fall in the window,
 * refused hits not recorded, retry when the oldest counted hit leaves the window.
 */
export class PostgresRateLimitStore implements RateLimitStore {
  readonly #pool: Pool
  readonly #lastSweep = new Map<string, number>()

  constructor (pool: Pool) {
    this.#pool = pool
  }

  async hit (limit: RateLimit, key: string, at: number): Promise<RateLimitDecision> {
    const { name, max, windowMs } = limit
    const since = at - windowMs
    // Keys idle for a whole window go, once per window per collector: the table stays bounded by
    // the clients active in one window.
    const last = this.#lastSweep.get(name)
    if (last === undefined || at - last >= windowMs) {
      this.#lastSweep.set(name, at)
      await this.#pool.query('DELETE FROM rate_limit WHERE name = $1 AND hits[cardinality(hits)] <= $2', [name, since])
    }
    // In SET every expression reads the row as it was; rate_limit_window sorts, so a hit from a
    // collector whose clock is a little behind still leaves the window in its turn.
    const { rows } = await this.#pool.query<{ allowed: boolean, oldest: number }>(`INSERT INTO rate_limit AS r (name, key, hits, allowed)
        VALUES ($1, $2, ARRAY[$3::bigint], true)
      ON CONFLICT (name, key) DO UPDATE SET
        allowed = cardinality(rate_limit_window(r.hits, $4)) < $5,
        hits = CASE WHEN cardinality(rate_limit_window(r.hits, $4)) < $5
          THEN rate_limit_window(array_append(r.hits, $3::bigint), $4)
          ELSE rate_limit_window(r.hits, $4) END
      RETURNING allowed, hits[1] AS oldest`, [name, key, at, since, max])
    const row = rows[0] as { allowed: boolean, oldest: number }
    return row.allowed ? { allowed: true } : { allowed: false, retryAt: row.oldest + windowMs }
  }
}
