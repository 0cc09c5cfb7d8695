import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Outbox as BaseOutbox } from '../../agent/outbox/outbox.js'
import { acquireLock } from '../../agent/outbox/lock.js'
import { availableDrivers, openDatabase, type SqliteDriverName } from '../../agent/outbox/sqlite-driver.js'
import { skipRecord } from '../../agent/scheduler/skip-record.js'
import { syncBody } from '../../agent/sync/sync-engine.js'

const dirs: string[] = []
function tmp (): string { const d = mkdtempSync(join(tmpdir(), 'tocdo-outbox-')); dirs.push(d); return d }
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })

const rec = (detail = 'x') => skipRecord({ code: 'TEST', detail, measuredAt: new Date(), durationMs: 0, clock: { offsetMs: null, sinceSyncS: null }, context: {} })

/** node:sqlite is unflagged from Node 22.13 (and 23.4); before that the agent falls back to better-sqlite3. */
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
const nodeHasSqlite = major > 23 || (major === 23 && minor >= 4) || (major === 22 && minor >= 13)

describe('sqlite driver choice', () => {
  it('openDatabase() prefers node:sqlite where this Node has it, else better-sqlite3', () => {
    const drivers = availableDrivers()
    expect(drivers.includes('node:sqlite')).toBe(nodeHasSqlite)
    expect(drivers).toContain('better-sqlite3')
    const db = openDatabase(join(tmp(), 'x.sqlite'))
    expect(db.driver).toBe(nodeHasSqlite ? 'node:sqlite' : 'better-sqlite3')
    db.close()
    if (!nodeHasSqlite) expect(() => openDatabase(join(tmp(), 'y.sqlite'), { driver: 'node:sqlite' })).toThrow(/node:sqlite is not available in Node/)
  })

  it('an outbox written by one driver is read by the other (an npm install moved to a package keeps its queue)', () => {
    const drivers = availableDrivers()
    const dir = tmp()
    const r = rec()
    const first = new BaseOutbox(dir, { driver: drivers[0] }); first.add(r); first.setMeta('k', 'v'); first.close()
    const second = new BaseOutbox(dir, { driver: drivers[drivers.length - 1] })
    expect(second.nextBatch(10, 1 << 20).map((x) => x.resultId)).toEqual([r.id])
    expect(second.getMeta('k')).toBe('v')
    second.close()
  })
})

describe.each(availableDrivers())('agent outbox on %s', (driver: SqliteDriverName) => {
  class Outbox extends BaseOutbox {
    constructor (dir: string, opts: ConstructorParameters<typeof BaseOutbox>[1] = {}) { super(dir, { ...opts, driver }) }
  }

  it('transaction() commits, rolls back on a throw, and undoes only the inner part of a nested failure', () => {
    const ob = new Outbox(tmp())
    expect(ob.db.driver).toBe(driver)
    ob.db.transaction(() => { ob.setMeta('a', '1') })
    expect(() => ob.db.transaction(() => { ob.setMeta('b', '2'); throw new Error('boom') })).toThrow('boom')
    ob.db.transaction(() => {
      ob.setMeta('c', '3')
      try { ob.db.transaction(() => { ob.setMeta('d', '4'); throw new Error('inner') }) } catch {}
    })
    expect([ob.getMeta('a'), ob.getMeta('b'), ob.getMeta('c'), ob.getMeta('d')]).toEqual(['1', null, '3', null])
    ob.close()
    expect(ob.db.open).toBe(false)
  })

  it('commits with WAL and synchronous=FULL and stamps each result with a monotonic seq', () => {
    const ob = new Outbox(tmp())
    expect(ob.db.pragma('journal_mode')).toBe('wal')
    expect(ob.db.pragma('synchronous')).toBe(2)
    const a = ob.add(rec()); const b = ob.add(rec())
    expect(b).toBeGreaterThan(a)
    const batch = ob.nextBatch(10, 1 << 20)
    expect(batch.map((r) => JSON.parse(r.body).seq)).toEqual([a, b])
    ob.close()
  })

  it('writes each body once with its final seq, and never reuses a seq once its row was delivered, across a reopen', () => {
    const dir = tmp()
    const ob = new Outbox(dir)
    const r = rec(); const a = ob.add(r)
    const [row] = ob.nextBatch(10, 1 << 20)
    expect(JSON.parse(row!.body)).toEqual({ ...r, seq: a })
    expect(row!.bytes).toBe(Buffer.byteLength(row!.body))
    ob.applyAcks([row!], [{ id: r.id, status: 'accepted' }])
    expect(ob.nextBatch(10, 1 << 20)).toEqual([])
    ob.close()
    const again = new Outbox(dir)
    const b = again.add(rec())
    expect(b).toBe(a + 1)
    again.close()
  })

  it('the sync request carries the stored bodies as they are, and reads back as the same request', () => {
    const ob = new Outbox(tmp())
    const r1 = rec('one'); const r2 = rec('two')
    ob.add(r1); ob.add(r2)
    const rows = ob.nextBatch(10, 1 << 20)
    const head = { agentId: 'agent-1', sentAt: '2026-10-01T00:00:00.000Z', heartbeat: { agentVersion: '1.0.0' } }
    const { serialized } = syncBody(head as never, rows)
    for (const row of rows) expect(serialized).toContain(row.body)
    expect(JSON.parse(serialized)).toEqual({ ...head, results: rows.map((r) => JSON.parse(r.body)) })
    expect(JSON.parse(syncBody(head as never, []).serialized)).toEqual({ ...head, results: [] })
    ob.close()
  })

  it('keeps results across a reopen (what a restart sees)', () => {
    const dir = tmp()
    const ob = new Outbox(dir); const r = rec(); ob.add(r); ob.close()
    const again = new Outbox(dir)
    expect(again.nextBatch(10, 1 << 20).map((x) => x.resultId)).toEqual([r.id])
    again.close()
  })

  it('batches oldest first within the item and byte limits, always moving at least one row', () => {
    const ob = new Outbox(tmp())
    for (let i = 0; i < 30; i++) ob.add(rec('y'.repeat(500)))
    expect(ob.nextBatch(10, 1 << 20)).toHaveLength(10)
    const small = ob.nextBatch(500, 3000)
    const joined = '[' + small.map((r) => r.body).join(',') + ']'
    expect(Buffer.byteLength(joined)).toBeLessThanOrEqual(3000)
    expect(small.length).toBeGreaterThan(0)
    expect(ob.nextBatch(500, 10)).toHaveLength(1)
    ob.close()
  })

  it('deletes only acknowledged rows: accepted/duplicate gone, conflict/rejected dead with reason, unmentioned pending', () => {
    const ob = new Outbox(tmp())
    const rs = [rec(), rec(), rec(), rec(), rec()]
    for (const r of rs) ob.add(r)
    const sent = ob.nextBatch(10, 1 << 20)
    const out = ob.applyAcks(sent, [
      { id: rs[0]!.id, status: 'accepted' },
      { id: rs[1]!.id, status: 'duplicate' },
      { id: rs[2]!.id, status: 'conflict' },
      { id: rs[3]!.id, status: 'rejected', reason: 'must be number', field: '/download/mbps' },
      { id: 'not-sent', status: 'accepted' }
    ])
    expect(out).toEqual({ deleted: 2, dead: 2, untouched: 1 })
    expect(ob.nextBatch(10, 1 << 20).map((r) => r.resultId)).toEqual([rs[4]!.id])
    const dead = ob.deadLetters()
    expect(dead.map((d) => d.status).sort()).toEqual(['conflict', 'rejected'])
    expect(dead.find((d) => d.status === 'rejected')).toMatchObject({ reason: 'must be number', field: '/download/mbps' })
    expect(dead.find((d) => d.status === 'conflict')?.reason).toMatch(/kept another copy/)
    expect(ob.stats()).toMatchObject({ pending: 1, dead: 2 })
    ob.close()
  })

  it('expires rows older than 90 days into dead letters, counts them, and purges dead letters after 30 days', () => {
    let now = Date.parse('2026-01-01T00:00:00Z')
    const ob = new Outbox(tmp(), { now: () => now })
    ob.add(rec())
    now += 89 * 86_400_000
    expect(ob.expire().expired).toBe(0)
    ob.add(rec())
    now += 2 * 86_400_000
    expect(ob.expire()).toEqual({ expired: 1, purged: 0 })
    expect(ob.counters().expired).toBe(1)
    expect(ob.stats()).toMatchObject({ pending: 1, dead: 1 })
    now += 31 * 86_400_000
    expect(ob.expire().purged).toBe(1)
    ob.close()
  })

  it('reports full at the row and byte caps and keeps what is stored', () => {
    const ob = new Outbox(tmp(), { limits: { maxRows: 3, maxBytes: 1 << 30 } })
    for (let i = 0; i < 3; i++) ob.add(rec())
    expect(ob.capState()).toMatchObject({ full: true })
    expect(ob.stats().pending).toBe(3)
    const ob2 = new Outbox(tmp(), { limits: { maxBytes: 1000 } })
    ob2.add(rec('z'.repeat(900)))
    expect(ob2.capState()).toMatchObject({ full: true, reason: expect.stringMatching(/bytes/) })
    ob.close(); ob2.close()
  })

  it('persists counters, usage and meta', () => {
    const dir = tmp()
    const ob = new Outbox(dir)
    ob.bump('storageFull'); ob.bump('missedSlots', 3); ob.addUsage('2026-03', 5e6); ob.addUsage('2026-03', 7e6); ob.setMeta('k', 'v')
    ob.close()
    const again = new Outbox(dir)
    expect(again.counters()).toMatchObject({ storageFull: 1, missedSlots: 3, skippedBudget: 0 })
    expect(again.usage('2026-03')).toEqual({ bytes: 12e6, tests: 2 })
    expect(again.getMeta('k')).toBe('v')
    expect(again.integrityCheck()).toBe('ok')
    again.close()
  })
})

describe('agent lock', () => {
  it('allows one flusher per data dir and takes over a lock left by a dead process', () => {
    const dir = tmp()
    const lock = acquireLock(dir)
    expect(() => acquireLock(dir, process.pid + 1)).toThrow(/already running/)
    lock.release()
    const stale = acquireLock(dir, 2 ** 22 + 12345) // a pid that does not exist
    expect(acquireLock(dir).release).toBeTypeOf('function')
    stale.release()
  })
})
