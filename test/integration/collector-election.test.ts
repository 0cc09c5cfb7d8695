import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createPool } from '../../collector/storage/postgres/pool.js'
import { postgresStores } from '../../collector/storage/postgres/index.js'
import type { Stores } from '../../collector/storage/stores.js'
import { spawnCollector, type CollectorProcess } from '../helpers/collector-process.js'
import { createTestDatabase } from '../helpers/postgres.js'
import { sqliteBackend } from '../helpers/stores.js'
import { until } from '../helpers/until.js'

const LEADS = 'this collector leads the once-per-fleet jobs'
const FOLLOWS = 'another collector leads the once-per-fleet jobs'
const REBUILDS = 'start-up rebuilds checked'

function count (text: string, needle: string): number {
  return text.split(needle).length - 1
}

/**
 * Work that must run once in the fleet (docs/operations.md) is elected: a session advisory lock
 * on a connection of its own. One instance leads; the others wait for the lock and take over
 * when the leader's session ends.
 */
describe('election of once-per-fleet work', () => {
  it('on PostgreSQL one of two stores leads; the other takes over when the leader closes', async () => {
    const db = await createTestDatabase()
    const a = await postgresStores(createPool(db.url, { max: 3 }))
    const b = await postgresStores(createPool(db.url, { max: 3 }))
    let bClosed = false
    try {
      const la = await a.elect('job')
      const lb = await b.elect('job')
      expect(la.leads).toBe(true)
      expect(lb.leads).toBe(false)
      // Another name is another election.
      expect((await b.elect('other-job')).leads).toBe(true)
      let tookOver = 0
      lb.onLead(() => { tookOver++ })
      expect(tookOver).toBe(0)
      await a.close()
      await until(() => tookOver === 1, { what: 'the follower taking over', timeoutMs: 30_000 })
      expect(lb.leads).toBe(true)
      // Closing the leader's stores releases the lock: a newcomer follows.
      const c: Stores = await postgresStores(createPool(db.url, { max: 3 }))
      try {
        expect((await c.elect('job')).leads).toBe(false)
        await b.close()
        bClosed = true
      } finally {
        await c.close()
      }
    } finally {
      if (!bClosed) await b.close()
    }
  })

  it('with SQLite the one collector leads', async () => {
    const s = await sqliteBackend.open()
    try {
      const l = await s.elect('job')
      expect(l.leads).toBe(true)
      let called = 0
      l.onLead(() => { called++ })
      expect(called).toBe(1)
    } finally {
      await s.close()
    }
  })

  describe('two collector processes on one database', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tocdo-election-'))
    const procs: CollectorProcess[] = []
    afterAll(async () => {
      for (const c of procs) if (c.proc.exitCode === null && c.proc.signalCode === null) { c.proc.kill('SIGTERM'); await c.exited }
      rmSync(dataDir, { recursive: true, force: true })
    })

    it('only the leader runs the once-per-fleet jobs; after kill -9 of the leader the other takes over and runs them', async () => {
      const db = await createTestDatabase()
      const env = { TOCDO_DATABASE_URL: db.url, TOCDO_IPV6_PROBE_INTERVAL_MIN: '0' }
      const first = await spawnCollector({ dataDir: join(dataDir, 'a'), env })
      procs.push(first)
      const second = await spawnCollector({ dataDir: join(dataDir, 'b'), env })
      procs.push(second)
      // Each logs its standing before it listens, so both are settled now.
      expect(count(first.stdout(), LEADS)).toBe(1)
      expect(count(first.stdout(), REBUILDS)).toBe(1)
      expect(count(second.stdout(), LEADS)).toBe(0)
      expect(count(second.stdout(), FOLLOWS)).toBe(1)
      expect(count(second.stdout(), REBUILDS)).toBe(0)

      // The server's view: one session holds the election's lock, another waits for it.
      const pool = createPool(db.url, { max: 1 })
      try {
        const locks = async (): Promise<Array<{ granted: boolean, pid: number }>> => (await pool.query<{ granted: boolean, pid: number }>(
          "SELECT granted, pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 7312012 AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY granted DESC")).rows
        await until(async () => (await locks()).length === 2, { what: 'the follower waiting for the lock', timeoutMs: 30_000 })
        const before = await locks()
        expect(before.map((l) => l.granted)).toEqual([true, false])

        first.proc.kill('SIGKILL')
        expect(await first.exited).toBe('SIGKILL')
        await until(() => second.stdout().includes(LEADS), { what: 'the second collector taking over', timeoutMs: 60_000 })
        await until(() => second.stdout().includes(REBUILDS), { what: 'the new leader running the start-up rebuilds', timeoutMs: 60_000 })
        const after = await locks()
        expect(after).toEqual([{ granted: true, pid: before[1]?.pid }])

        // The killed collector, restarted, follows.
        const again = await spawnCollector({ dataDir: join(dataDir, 'a'), env })
        procs.push(again)
        expect(count(again.stdout(), FOLLOWS)).toBe(1)
        expect(count(again.stdout(), REBUILDS)).toBe(0)
        expect(count(second.stdout(), LEADS)).toBe(1)
      } finally {
        await pool.end()
      }
    })
  })
})
