import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTempCollector, type TempCollector } from '../helpers/temp-collector.js'
import { call, enrolledAgent, sync, syncBody } from '../helpers/fleet-client.js'
import { latencyRecord, speedRecord } from '../fixtures/records.js'
import { createTestDatabase } from '../helpers/postgres.js'
import { createPool, type Pool } from '../../collector/storage/postgres/pool.js'
import { openStoreMigration } from '../../collector/storage/index.js'

const run = promisify(execFile)
const ADMIN = 'migrate-admin-token-0123456789abcdef'
const HOUR = 3_600_000
const PASSWORD = 'never-print-this-pw'

/**
 * Issue 13 item 5: `tocdo-collector migrate --to postgres://…` moves a SQLite collector's store
 * (filled through the real HTTP API) into a fresh database of the run's PostgreSQL cluster and
 * verifies it; re-running is a no-op that still verifies; a tampered row fails the verification
 * by name; and a collector started on the PostgreSQL database serves the same reports.
 */
describe('tocdo-collector migrate --to postgres://', () => {
  let c: TempCollector
  let url: string
  let pool: Pool
  const agents: Array<{ agentId: string, token: string, ids: string[] }> = []

  // The CLI as an operator runs it: TypeScript at start (tsx), slow on a busy machine.
  const migrate = async (to = url, dataDir = c.dataDir): Promise<{ code: number, out: string }> => {
    try {
      const r = await run(process.execPath, ['--import', 'tsx', 'collector/cli.ts', 'migrate', '--to', to, '--data-dir', dataDir, '--batch', '7'],
        { env: { ...process.env, TOCDO_DATABASE_URL: '' }, maxBuffer: 16 << 20 })
      return { code: 0, out: r.stdout + r.stderr }
    } catch (err) {
      const e = err as { code: number, stdout: string, stderr: string }
      return { code: e.code, out: e.stdout + e.stderr }
    }
  }
  const paths = (month: string): string[] => [
    `/api/v1/reports/areas?level=legacy_district&province=62&period=${month}`,
    `/api/v1/reports/areas?level=province&period=${month}`,
    `/api/v1/reports/overview?province=62&version=2025-03&period=${month}`
  ]
  const reports = async (base: string, month: string): Promise<unknown[]> => await Promise.all(paths(month).map(async (p) => {
    const r = await call<Record<string, unknown>>(`${base}${p}`, {})
    expect(r.status, p).toBe(200)
    return { ...r.body, generatedAt: null }
  }))

  beforeAll(async () => {
    c = await startTempCollector({ adminToken: ADMIN })
    // Two agents, results over two months (speed tests, latency, a repeat of one test).
    const start = Date.UTC(2026, 8, 28, 2, 0)
    for (let a = 0; a < 2; a++) {
      const agent = await enrolledAgent(c.url, ADMIN, `pc-${a}`)
      const records = [
        ...Array.from({ length: 24 }, (_, i) => speedRecord({ at: new Date(start + i * 13 * HOUR), downMbps: 80 + 7 * i + a, upMbps: 40 + i, idleMs: 9 + (i % 5) })),
        ...Array.from({ length: 5 }, (_, i) => latencyRecord({}, new Date(start + i * 29 * HOUR)))
      ]
      const r = await sync(c.url, agent.token, syncBody(agent.agentId, records))
      expect(r.body.acks).toMatchObject({ accepted: records.length })
      agents.push({ agentId: agent.agentId, token: agent.token, ids: records.map((x) => x.id) })
    }
    const db = await createTestDatabase({ migrated: false })
    url = db.url.replace('postgres://tocdo@', `postgres://tocdo:${PASSWORD}@`)
    pool = createPool(db.url, { max: 2 })
  }, 120_000)
  afterAll(async () => {
    await pool?.end()
    await c?.close()
  })

  it('copies every table while the SQLite collector runs, verifies results and reports, and never prints the password', async () => {
    const r = await migrate()
    expect(r.out).not.toContain(PASSWORD)
    expect(r.out).toContain('tocdo:***@')
    expect(r.code, r.out).toBe(0)
    expect(r.out).toMatch(/result\s+58 read\s+58 copied 0 already there 0 conflicts/)
    expect(r.out).toMatch(/agent\s+2 read\s+2 copied/)
    expect(r.out).toContain('rollups copied as stored')
    expect(r.out).toContain('verify results: 2 agents, 58 results on SQLite; counts and payload hashes equal on both')
    expect(r.out).toMatch(/verify tables: \d+ rows of 16 tables on SQLite; every row equal on both, column by column/)
    expect(r.out).toMatch(/verify reports: \d+ reports \(2 months and all time\); all equal on both/)
    expect(r.out).toContain('verdict ok')

    const counts = await pool.query<{ t: string, n: number }>(`SELECT 'result' AS t, count(*)::int AS n FROM result UNION ALL SELECT 'result_key', count(*)::int FROM result_key
      UNION ALL SELECT 'agency', count(*)::int FROM agency UNION ALL SELECT 'agent', count(*)::int FROM agent UNION ALL SELECT 'admin_audit', count(*)::int FROM admin_audit`)
    const lite = async (t: string): Promise<number> => (await c.db.rows(t)).length
    expect(Object.fromEntries(counts.rows.map((x) => [x.t, x.n]))).toEqual({
      result: 58, result_key: 58, agency: await lite('agency'), agent: 2, admin_audit: await lite('admin_audit')
    })
    // Every result row is the same on both, column by column (bytea and BLOB both come back as Buffers).
    const pgRows = (await pool.query('SELECT * FROM result ORDER BY agent_id, result_id')).rows
    const liteRows = (await c.db.rows('result')).map(({ id: _id, ...rest }) => rest)
      .sort((a, b) => `${a.agent_id as string}/${a.result_id as string}` < `${b.agent_id as string}/${b.result_id as string}` ? -1 : 1)
    expect(pgRows).toEqual(liteRows)
  }, 240_000)

  it('re-running copies nothing and still verifies', async () => {
    const r = await migrate()
    expect(r.code, r.out).toBe(0)
    expect(r.out).toMatch(/result\s+58 read\s+0 copied 58 already there 0 conflicts/)
    expect(r.out).toContain('rollups unchanged (no new results)')
    expect(r.out).toContain('verdict ok')
    expect((await pool.query('SELECT count(*)::int AS n FROM result')).rows[0].n).toBe(58)
  }, 240_000)

  it('fails verification naming the agent and result of a row changed in PostgreSQL', async () => {
    const { agentId, ids } = agents[1] as { agentId: string, ids: string[] }
    const id = ids[3] as string
    await pool.query("UPDATE result SET payload_sha256 = '\\x00' WHERE agent_id = $1 AND result_id = $2", [agentId, id])
    try {
      const r = await migrate()
      expect(r.code, r.out).toBe(1)
      expect(r.out).toContain(`DIFFERS agent ${agentId}: 29 results on SQLite, 29 on PostgreSQL, payload hashes differ; results ${id}`)
      expect(r.out).toContain('verdict FAILED')
    } finally {
      await pool.query('UPDATE result SET payload_sha256 = k.payload_sha256 FROM result_key k WHERE k.agent_id = result.agent_id AND k.result_id = result.result_id AND result.result_id = $1', [id])
    }
  }, 240_000)

  it('a re-run after more results arrived copies only those, rebuilds the rollups there, and the reports stay equal', async () => {
    const { agentId, token } = agents[0] as { agentId: string, token: string }
    // Into a month already copied (September) and a later one.
    const more = [Date.UTC(2026, 8, 29, 3, 0), Date.UTC(2026, 9, 20, 4, 0), Date.UTC(2026, 9, 20, 4, 20)]
      .map((at, i) => speedRecord({ at: new Date(at), downMbps: 150 + i, upMbps: 60, idleMs: 11 }))
    const s = await sync(c.url, token, syncBody(agentId, more))
    expect(s.body.acks).toMatchObject({ accepted: 3 })
    const r = await migrate()
    expect(r.code, r.out).toBe(0)
    expect(r.out).toMatch(/result\s+61 read\s+3 copied 58 already there 0 conflicts/)
    // The sync changed the agent's row on SQLite (its last sync, its heartbeat): brought up to date, not skipped.
    expect(r.out).toMatch(/agent\s+2 read\s+0 copied 1 brought up to date/)
    expect(r.out).toMatch(/verify tables: \d+ rows of 16 tables on SQLite; every row equal on both, column by column/)
    expect(r.out).toContain('rollups rebuilt from the results in PostgreSQL')
    expect(r.out).toContain('verify results: 2 agents, 61 results on SQLite; counts and payload hashes equal on both')
    expect(r.out).toMatch(/verify reports: \d+ reports \(2 months and all time\); all equal on both/)
  }, 240_000)

  it('reports a result PostgreSQL holds with a different payload as a conflict and keeps it', async () => {
    const { agentId, ids } = agents[0] as { agentId: string, ids: string[] }
    const id = ids[7] as string
    await pool.query("UPDATE result_key SET payload_sha256 = '\\x01' WHERE agent_id = $1 AND result_id = $2", [agentId, id])
    try {
      const r = await migrate()
      expect(r.code, r.out).toBe(1)
      expect(r.out).toMatch(/result\s+61 read\s+0 copied 60 already there 1 conflicts/)
      expect(r.out).toContain(`CONFLICT result ${agentId}/${id}: PostgreSQL holds a different record with this id; it was kept, not overwritten`)
      const kept = await pool.query<{ h: Buffer }>('SELECT payload_sha256 AS h FROM result_key WHERE agent_id = $1 AND result_id = $2', [agentId, id])
      expect(kept.rows[0]?.h).toEqual(Buffer.from([1]))
    } finally {
      await pool.query('UPDATE result_key SET payload_sha256 = r.payload_sha256 FROM result r WHERE r.agent_id = result_key.agent_id AND r.result_id = result_key.result_id AND r.result_id = $1', [id])
    }
  }, 240_000)

  it('compares every other copied table row by row: names the table, the row and the columns that differ, and a row only one side has', async () => {
    const [agency] = await c.db.rows('agency') as Array<{ id: string, name: string }>
    const m = await openStoreMigration(join(c.dataDir, 'collector.sqlite'), url)
    try {
      expect((await m.compareTables()).differences).toEqual([])
      await pool.query("UPDATE agency SET name = 'Renamed on PostgreSQL', plan_up_mbps = 1 WHERE id = $1", [agency!.id])
      await pool.query("INSERT INTO admin_audit (at, actor, via, action, target, summary, client_ip, status) VALUES (1, 'admin:x', 'api', 'agency.add', NULL, '{}', '::1', 200)")
      const { differences } = await m.compareTables()
      const added = (await pool.query<{ id: number }>('SELECT max(id) AS id FROM admin_audit')).rows[0]!.id
      expect(differences).toEqual(expect.arrayContaining([
        { table: 'agency', key: { id: agency!.id }, missingOn: null, columns: ['name', 'plan_up_mbps'] },
        { table: 'admin_audit', key: { id: added }, missingOn: 'sqlite', columns: expect.arrayContaining(['id', 'actor', 'summary']) }
      ]))
      expect(differences).toHaveLength(2)
      // Through the CLI: the re-run brings the renamed agency back to SQLite's row; the audit row
      // only PostgreSQL holds is named and fails the verdict.
      const r = await migrate()
      expect(r.code, r.out).toBe(1)
      expect(r.out).toMatch(/agency\s+\d+ read\s+0 copied 1 brought up to date/)
      expect(r.out).toContain(`DIFFERS admin_audit {"id":${added}}: missing on SQLite`)
      expect(r.out).toContain('verify tables: ')
      expect(r.out).toContain('1 rows DIFFER')
      expect(r.out).toContain('verdict FAILED')
      expect((await pool.query('SELECT name FROM agency WHERE id = $1', [agency!.id])).rows[0].name).toBe(agency!.name)
      await pool.query('DELETE FROM admin_audit WHERE id = $1', [added])
      expect((await m.compareTables()).differences).toEqual([])
    } finally {
      await m.close()
    }
  }, 240_000)

  it('answers a wrong --to or a data dir without a store with the field and the fix, never the password', async () => {
    const wrong = await migrate(`mysql://tocdo:${PASSWORD}@127.0.0.1/tocdo`)
    expect(wrong.code).toBe(1)
    expect(wrong.out).toContain('--to: the scheme is "mysql:"; give postgres://user:password@host:5432/database')
    const empty = await migrate(url, join(c.dataDir, 'nothing-here'))
    expect(empty.code).toBe(1)
    expect(empty.out).toContain('no collector database at')
    expect(empty.out).toContain('give the data dir of the collector to move with --data-dir')
    expect(wrong.out + empty.out).not.toContain(PASSWORD)
  }, 240_000)

  it('a collector started on the PostgreSQL URL serves the same reports over HTTP', async () => {
    const before = [...await reports(c.url, '2026-09'), ...await reports(c.url, '2026-10')]
    const onPg = await startTempCollector({ databaseUrl: url, adminToken: ADMIN })
    try {
      expect(onPg.app.stores.backend).toBe('postgres')
      const after = [...await reports(onPg.url, '2026-09'), ...await reports(onPg.url, '2026-10')]
      expect(after).toEqual(before)
      // The copied figures are real: September's speed tests of both agents count (2 × 5, and one sent after the first copy).
      expect(JSON.stringify(before[0])).toContain('"speedTests":11,"validTests":11')
    } finally {
      await onPg.close()
    }
  }, 240_000)
})
