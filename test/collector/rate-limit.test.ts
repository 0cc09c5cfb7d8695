import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { createRateLimiter } from '../../collector/fleet/rate-limit.js'
import { openStores } from '../../collector/storage/index.js'
import type { Stores } from '../../collector/storage/stores.js'
import { createTestDatabase } from '../helpers/postgres.js'
import { backends, type TestStores } from '../helpers/stores.js'

describe.each(backends)('rate limits, sliding window ($name)', ({ name, open }) => {
  let stores: TestStores
  beforeAll(async () => { stores = await open() })
  afterAll(async () => { await stores.close() })

  /** The limiter takes its clock as a parameter; these tests drive it with a fake one. */
  let keys = 0
  function limiter (max: number, windowMs: number) {
    let t = 0
    const key = `k${keys++}`
    const l = createRateLimiter({ store: stores.rateLimits, name: 'hits', max, windowMs, what: 'hits', now: () => t })
    return {
      at: async (ms: number): Promise<boolean> => {
        t = ms
        try { await l.hit(key); return true } catch { return false }
      }
    }
  }

  it('lets at most max through across a window edge, where a fixed window lets 2 × max', async () => {
    const l = limiter(10, 60_000)
    const late: boolean[] = []
    for (let i = 0; i < 10; i++) late.push(await l.at(59_000 + i))
    const early: boolean[] = []
    for (let i = 0; i < 10; i++) early.push(await l.at(60_001 + i))
    expect(late.filter(Boolean)).toHaveLength(10)
    expect(early.filter(Boolean)).toHaveLength(0)
    // Once the first of them leaves the window, one more is let in.
    expect(await l.at(119_000)).toBe(true)
    expect(await l.at(119_000)).toBe(false)
  })

  it('the 429 says which limit and when to come back: when the oldest counted hit leaves the window', async () => {
    let t = 0
    const l = createRateLimiter({ store: stores.rateLimits, name: 'enrol', max: 2, windowMs: 60_000, what: 'enrolment attempts per address', now: () => t })
    await l.hit('a'); t = 10_000; await l.hit('a'); t = 20_000
    await expect(l.hit('a')).rejects.toMatchObject({ code: 'TOCDO_ERR_RATE_LIMITED', message: 'more than 2 enrolment attempts per address in 60 s; retry after 40 s', details: { retryAfterS: 40 } })
    // Another key has its own window, and another limit counts apart.
    await expect(l.hit('b')).resolves.toBeUndefined()
    const other = createRateLimiter({ store: stores.rateLimits, name: 'sync', max: 2, windowMs: 60_000, what: 'requests per agent', now: () => t })
    await expect(other.hit('a')).resolves.toBeUndefined()
  })

  it('no window of length W ever holds more than max allowed hits (any arrival pattern)', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 10, max: 1000 }), fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: name === 'sqlite' ? 200 : 60 }), async (max, windowMs, gaps) => {
      const l = limiter(max, windowMs)
      let t = 0
      const allowed: number[] = []
      for (const g of gaps) { t += g; if (await l.at(t)) allowed.push(t) }
      for (const a of allowed) expect(allowed.filter((b) => b > a - windowMs && b <= a).length).toBeLessThanOrEqual(max)
      // And it is not stricter than the limit: with nothing in the last window, a hit passes.
      expect(await l.at(t + windowMs)).toBe(true)
    }), { numRuns: name === 'sqlite' ? 100 : 25 })
  })

  it('forgets keys idle for a whole window', async () => {
    const l = limiter(1, 1000)
    expect(await l.at(1_000_000)).toBe(true)
    expect(await l.at(1_000_500)).toBe(false)
    expect(await l.at(1_001_000)).toBe(true)
    if (name === 'postgres') {
      const keysOf = async (): Promise<unknown[]> => (await stores.rows('rate_limit')).filter((r) => r.name === 'hits').map((r) => r.key)
      expect(await keysOf()).toEqual([`k${keys - 1}`])
      // A hit a window later on another key sweeps the idle ones of that limit, and no other limit's.
      await createRateLimiter({ store: stores.rateLimits, name: 'hits', max: 1, windowMs: 1000, what: 'hits', now: () => 10_000_000 }).hit('fresh')
      expect(await keysOf()).toEqual(['fresh'])
      expect((await stores.rows('rate_limit')).filter((r) => r.name !== 'hits')).not.toHaveLength(0)
    }
  })
})

/**
 * Several collectors on one PostgreSQL share the limit: hits racing in through two stores (two
 * pools, as two collectors hold) are counted one after the other, so their sum keeps it.
 */
describe('rate limits shared by the stores of several collectors (postgres)', () => {
  it('50 hits at once through two stores at the same instant: exactly max let in; the next window lets max in again', async () => {
    const db = await createTestDatabase()
    const a: Stores = await openStores({ databaseUrl: db.url, file: '' })
    const b: Stores = await openStores({ databaseUrl: db.url, file: '' })
    try {
      let t = 5_000_000
      const limit = { name: 'sync', max: 10, windowMs: 600_000, what: 'requests per agent', now: () => t }
      const la = createRateLimiter({ store: a.rateLimits, ...limit })
      const lb = createRateLimiter({ store: b.rateLimits, ...limit })
      const race = async (): Promise<Array<PromiseSettledResult<void>>> =>
        await Promise.allSettled(Array.from({ length: 50 }, async (_, i) => { await (i % 2 === 0 ? la : lb).hit('agent-1') }))
      let outcomes = await race()
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(10)
      const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')
      expect(refused).toHaveLength(40)
      for (const r of refused) expect(r.reason).toMatchObject({ code: 'TOCDO_ERR_RATE_LIMITED', details: { retryAfterS: 600 } })
      t += 600_000
      outcomes = await race()
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(10)
    } finally {
      await a.close()
      await b.close()
    }
  })
})
