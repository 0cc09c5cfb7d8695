import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { migrations } from '../../collector/storage/postgres/migrations/index.js'
import { createPool } from '../../collector/storage/postgres/pool.js'
import { spawnCollector, type CollectorProcess } from '../helpers/collector-process.js'
import { createTestDatabase } from '../helpers/postgres.js'
import { PATHS } from '../../shared/protocol.js'

const run = promisify(execFile)

/** `tocdo-collector serve` until it exits; its code and stderr. */
async function serveFails (env: Record<string, string>, dataDir: string): Promise<{ code: number, stderr: string }> {
  try {
    await run(process.execPath, ['--import', 'tsx', 'collector/cli.ts', 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir],
      { env: { ...process.env, ...env }, timeout: 60_000 })
    return { code: 0, stderr: '' }
  } catch (err) {
    const e = err as { code: number, stderr: string }
    return { code: e.code, stderr: e.stderr }
  }
}

/**
 * The collector process on PostgreSQL (TOCDO_DATABASE_URL, docs/storage.md): a server that is
 * not there or a URL that is wrong stops it with a message naming the setting and never the
 * password; collectors started together on an empty database migrate it once and load the
 * seeds once.
 */
describe('tocdo-collector serve with TOCDO_DATABASE_URL', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tocdo-pg-start-'))
  const procs: CollectorProcess[] = []
  afterAll(async () => {
    for (const c of procs) { c.proc.kill('SIGTERM'); await c.exited }
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('stops with TOCDO_ERR_DATABASE_UNREACHABLE when no server answers, naming the URL without its password', async () => {
    // A port that was free a moment ago and is closed now.
    const port = await new Promise<number>((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const a = s.address() as { port: number }; s.close(() => { resolve(a.port) }) }) })
    const r = await serveFails({ TOCDO_DATABASE_URL: `postgres://tocdo:pw-not-to-show@127.0.0.1:${port}/tocdo` }, dataDir)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`PostgreSQL at postgres://tocdo:***@127.0.0.1:${port}/tocdo (TOCDO_DATABASE_URL) could not be reached`)
    expect(r.stderr).toContain('ECONNREFUSED')
    expect(r.stderr).not.toContain('pw-not-to-show')
  })

  it('refuses a URL that is not PostgreSQL\'s before connecting anywhere', async () => {
    const r = await serveFails({ TOCDO_DATABASE_URL: 'mysql://tocdo:pw-not-to-show@127.0.0.1/tocdo' }, dataDir)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('databaseUrl (from environment variable TOCDO_DATABASE_URL): the scheme is "mysql:"')
    expect(r.stderr).not.toContain('pw-not-to-show')
  })

  it('refuses `backup` (SQLite\'s) for a collector whose store is PostgreSQL, saying what to use', async () => {
    const r = await run(process.execPath, ['--import', 'tsx', 'collector/cli.ts', 'backup', join(dataDir, 'copy.sqlite'), '--data-dir', dataDir],
      { env: { ...process.env, TOCDO_DATABASE_URL: 'postgres://tocdo:pw-not-to-show@127.0.0.1/tocdo' }, timeout: 60_000 }).then(() => ({ code: 0, stderr: '' }), (e: { code: number, stderr: string }) => e)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('TOCDO_DATABASE_URL says this collector uses PostgreSQL: back that up with pg_dump or pg_basebackup')
    expect(r.stderr).not.toContain('pw-not-to-show')
  })

  it('two collectors started together on an empty database both serve, each migration and the seeds applied once', async () => {
    const db = await createTestDatabase({ migrated: false })
    const env = { TOCDO_DATABASE_URL: db.url, TOCDO_IPV6_PROBE_INTERVAL_MIN: '0' }
    const started = await Promise.all([1, 2].map(async (i) => await spawnCollector({ dataDir: join(dataDir, `c${i}`), env })))
    procs.push(...started)
    for (const c of started) {
      // /healthz pings the database through the store.
      const health = await fetch(`${c.url}${PATHS.health}`)
      expect(health.status).toBe(200)
      expect(await health.json()).toMatchObject({ status: 'ok', mode: 'collector' })
      // The stores' backend is in its start-up log line.
      expect(c.stdout()).toMatch(/"backend":"postgres".*stores opened/)
    }
    const pool = createPool(db.url, { max: 1 })
    try {
      const applied = (await pool.query<{ name: string, n: number }>('SELECT name, count(*) AS n FROM schema_migrations GROUP BY name ORDER BY name')).rows
      expect(applied).toEqual(migrations.map((m) => ({ name: m.name, n: 1 })).sort((a, b) => a.name.localeCompare(b.name)))
      expect((await pool.query('SELECT count(*) AS n FROM geo_province')).rows[0].n).toBe(97)
      expect((await pool.query('SELECT count(*) AS n FROM remote_config')).rows[0].n).toBe(1)
    } finally {
      await pool.end()
    }
  })
})
