import { afterEach, describe, expect, it } from 'vitest'
import { migratePostgres } from '../../../collector/storage/postgres/migrate.js'
import { migrations } from '../../../collector/storage/postgres/migrations/index.js'
import { connectPool, createPool, type Pool } from '../../../collector/storage/postgres/pool.js'
import { createTestDatabase, type TestDatabase } from '../../helpers/postgres.js'

/**
 * The PostgreSQL migration runner (collector/storage/postgres/migrate.ts) on a real server
 * (the run's private cluster, test/setup/postgres.ts): each migration in one transaction,
 * recorded in schema_migrations, under an advisory lock so collectors starting together do
 * not race.
 */
describe('migratePostgres', () => {
  const cleanup: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f()
  })
  async function emptyDatabase (): Promise<TestDatabase> {
    return await createTestDatabase({ migrated: false })
  }
  function pool (db: TestDatabase): Pool {
    const p = createPool(db.url, { max: 2 })
    cleanup.push(async () => { await p.end() })
    return p
  }
  const tables = async (p: Pool): Promise<string[]> =>
    (await p.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).rows.map((r) => r.t)

  it('applies every migration in order to an empty database, and applies nothing when run again', async () => {
    const p = pool(await emptyDatabase())
    expect(await migratePostgres(p, { now: () => 1_700_000_000_000 })).toEqual(migrations.map((m) => m.name))
    const recorded = await p.query<{ name: string, applied_at: number }>('SELECT name, applied_at FROM schema_migrations ORDER BY name')
    expect(recorded.rows).toEqual(migrations.map((m) => ({ name: m.name, applied_at: 1_700_000_000_000 })).sort((a, b) => a.name.localeCompare(b.name)))
    const before = await tables(p)
    expect(before).toEqual(expect.arrayContaining(['agency', 'agent', 'geo_commune', 'enrolment_code', 'ipv6_check', 'admin_audit', 'schema_migrations']))
    expect(await migratePostgres(p)).toEqual([])
    expect(await tables(p)).toEqual(before)
    expect((await p.query('SELECT count(*)::int AS n FROM schema_migrations')).rows[0].n).toBe(migrations.length)
  })

  it('lets two runners started together apply each migration once: the second waits, then finds them applied', async () => {
    const db = await emptyDatabase()
    // The pg_sleep widens the window in which a runner without the lock would run the same
    // CREATE TABLE a second time and fail.
    const slow = [
      { name: '001-a', sql: 'CREATE TABLE a (x int); SELECT pg_sleep(0.3);' },
      { name: '002-b', sql: 'CREATE TABLE b (x int); SELECT pg_sleep(0.3);' }
    ]
    const [first, second] = await Promise.all([migratePostgres(pool(db), { migrations: slow }), migratePostgres(pool(db), { migrations: slow })])
    expect([...first, ...second].sort()).toEqual(['001-a', '002-b'])
    expect([first, second].map((applied) => applied.length).sort()).toEqual([0, 2])
    expect(await tables(pool(db))).toEqual(['a', 'b', 'schema_migrations'])
  })

  it('rolls a failing migration back whole and records only the ones before it', async () => {
    const p = pool(await emptyDatabase())
    const list = [
      { name: '001-ok', sql: 'CREATE TABLE ok (x int);' },
      { name: '002-bad', sql: 'CREATE TABLE half (x int); INSERT INTO nowhere VALUES (1);' }
    ]
    await expect(migratePostgres(p, { migrations: list })).rejects.toThrow(/migration 002-bad failed and was rolled back: relation "nowhere" does not exist/)
    expect(await tables(p)).toEqual(['ok', 'schema_migrations'])
    expect((await p.query('SELECT name FROM schema_migrations')).rows).toEqual([{ name: '001-ok' }])
    // The lock was released: a corrected list runs at once.
    expect(await migratePostgres(p, { migrations: [list[0]!, { name: '002-bad', sql: 'CREATE TABLE half (x int);' }] })).toEqual(['002-bad'])
  })
})

describe('PostgreSQL pool', () => {
  it('reads int8 (epoch ms, counts) as numbers and refuses one beyond Number.MAX_SAFE_INTEGER', async () => {
    const db = await createTestDatabase({ migrated: false })
    const p = createPool(db.url, { max: 1 })
    try {
      const row = (await p.query('SELECT 1733500000123::bigint AS ms, count(*) AS n, NULL::bigint AS none FROM generate_series(1, 3)')).rows[0]
      expect(row).toEqual({ ms: 1733500000123, n: 3, none: null })
      expect((await p.query('SELECT $1::bigint AS max', [Number.MAX_SAFE_INTEGER])).rows[0].max).toBe(Number.MAX_SAFE_INTEGER)
      await expect(p.query('SELECT 9007199254740993::bigint AS x')).rejects.toMatchObject({ code: 'TOCDO_ERR_INTERNAL', message: expect.stringMatching(/9007199254740993, beyond Number.MAX_SAFE_INTEGER/) })
      // The pool stays usable after the refused row.
      expect((await p.query('SELECT 2::bigint AS x')).rows[0].x).toBe(2)
    } finally {
      await p.end()
    }
  })

  it('fails with TOCDO_ERR_DATABASE_UNREACHABLE naming TOCDO_DATABASE_URL, without the password, when no server answers', async () => {
    const { createServer } = await import('node:net')
    // A port that was free a moment ago and is closed now: nothing listens on it.
    const port = await new Promise<number>((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const a = s.address() as { port: number }; s.close(() => { resolve(a.port) }) }) })
    const err = await connectPool(`postgres://tocdo:s3cret-pw@127.0.0.1:${port}/tocdo`).then(() => null, (e: unknown) => e as Error & { code: string })
    expect(err?.code).toBe('TOCDO_ERR_DATABASE_UNREACHABLE')
    expect(err?.message).toContain('TOCDO_DATABASE_URL')
    expect(err?.message).toContain(`postgres://tocdo:***@127.0.0.1:${port}/tocdo`)
    expect(err?.message).toContain('ECONNREFUSED')
    expect(err?.message).not.toContain('s3cret-pw')
  })

  it('fails with TOCDO_ERR_DATABASE_UNREACHABLE when the database does not exist', async () => {
    const { inject } = await import('vitest')
    const url = new URL(inject('postgresUrl'))
    url.pathname = '/no_such_database'
    await expect(connectPool(url.toString())).rejects.toMatchObject({ code: 'TOCDO_ERR_DATABASE_UNREACHABLE', message: expect.stringContaining('database "no_such_database" does not exist') })
  })
})
