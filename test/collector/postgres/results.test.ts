import { afterEach, describe, expect, it } from 'vitest'
import { PostgresResultStore } from '../../../collector/storage/postgres/results.js'
import { PostgresRollupReader } from '../../../collector/storage/postgres/rollups.js'
import { Ingestor } from '../../../collector/ingest/ingest.js'
import { CachedRollupReader } from '../../../collector/reports/month-cache.js'
import { readMonthRows } from '../../../collector/reports/rollup-reader.js'
import { parsePeriod } from '../../../shared/period.js'
import { createPool, type Pool } from '../../../collector/storage/postgres/pool.js'
import { createTestDatabase } from '../../helpers/postgres.js'
import { record, seededDb, type Fixture, type Sample } from '../report-fixtures.js'
import type { Agency, AgentRow, CommitJob, PreparedBatch } from '../../../collector/storage/stores.js'
import type { ResultRecord } from '../../../shared/schemas/result.js'

/**
 * What only the PostgreSQL result store has to show (collector/storage/postgres/results.ts):
 * exactly once and no deadlock with two collectors (two pools) committing overlapping groups
 * at once, figures equal to SQLite's for the same groups to the last bit, the change signal
 * between collectors, month packs stamped with their generation, and retention by months.
 */
const RECEIVED = Date.parse('2026-11-01T00:00:00Z')

interface PgFixture {
  pools: Pool[]
  url: string
  agency: Agency
  agents: AgentRow[]
  batch: (agent: AgentRow, records: unknown[]) => PreparedBatch
  close: () => Promise<void>
}

const ingestor = new Ingestor()

/** A migrated database with one agency and `n` agents, and `pools` pools over it (each one collector). */
async function pgFixture (n: number, pools = 1, ids?: { agency: Agency, agents: AgentRow[] }): Promise<PgFixture> {
  const db = await createTestDatabase()
  const ps = Array.from({ length: pools }, () => createPool(db.url, { max: 4 }))
  const p = ps[0] as Pool
  const agency: Agency = ids?.agency ?? {
    id: 'agency-a',
    name: 'A',
    category: 'organisation',
    connectionClass: 'fixed',
    isp: 'VNPT',
    planDownMbps: null,
    planUpMbps: null,
    communeCode: '22736',
    provinceCode: '51',
    legacyCommuneCode: '23281',
    legacyDistrictCode: '608',
    legacyProvinceCode: '62',
    placementNote: null,
    highTechZone: null,
    createdAt: 1
  }
  await p.query(`INSERT INTO agency (id, name, category, connection_class, isp, commune_code, province_code, legacy_commune_code, legacy_district_code,
    legacy_province_code, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1)`, [agency.id, agency.name, agency.category, agency.connectionClass,
    agency.isp, agency.communeCode, agency.provinceCode, agency.legacyCommuneCode, agency.legacyDistrictCode, agency.legacyProvinceCode])
  const agents: AgentRow[] = ids?.agents ?? Array.from({ length: n }, (_, i) => ({ id: `agent-${i}`, agencyId: agency.id, name: `a${i}`, status: 'active', createdAt: 1, lastSeenAt: null, agentVersion: null }))
  for (const a of agents) {
    await p.query('INSERT INTO agent (id, agency_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, 1)', [a.id, agency.id, a.name, Buffer.from(a.id)])
  }
  return {
    pools: ps,
    url: db.url,
    agency,
    agents,
    batch: (agent, records) => ingestor.prepare(agent, agency, records, RECEIVED),
    close: async () => { for (const x of ps) await x.end(); await db.drop() }
  }
}

const count = async (p: Pool, table: string): Promise<number> => (await p.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n

/** Every rollup row with its full-precision sums and sample bytes, in one order. */
const pgRollups = async (p: Pool): Promise<unknown> => ({
  months: (await p.query(`SELECT agent_id, month, band, connection_class, isp, agency_id, commune_code, province_code, legacy_district_code,
    legacy_province_code, n_results, n_speed, n_valid, n_skip, sum_test_down::text AS sd, n_test_up, sum_test_up::text AS su, n_test_idle,
    sum_test_idle::text AS si, n_test_down_ge30, encode(rep_down, 'hex') AS d, encode(rep_up, 'hex') AS u, encode(rep_idle, 'hex') AS i
    FROM rollup_agent_month ORDER BY agent_id COLLATE "C", month COLLATE "C", band COLLATE "C"`)).rows,
  hours: (await p.query(`SELECT h.agent_id, h.hour_start, h.band, m.month, encode(h.tests, 'hex') AS tests FROM rollup_agent_hour h
    JOIN rollup_agent_month m ON m.id = h.month_id ORDER BY h.agent_id COLLATE "C", h.hour_start, h.band COLLATE "C"`)).rows
})

const sqliteRollups = (f: Fixture): unknown => ({
  months: (f.db.prepare(`SELECT agent_id, month, band, connection_class, isp, agency_id, commune_code, province_code, legacy_district_code,
    legacy_province_code, n_results, n_speed, n_valid, n_skip, sum_test_down AS sd, n_test_up, sum_test_up AS su, n_test_idle,
    sum_test_idle AS si, n_test_down_ge30, lower(hex(rep_down)) AS d, lower(hex(rep_up)) AS u, lower(hex(rep_idle)) AS i
    FROM rollup_agent_month ORDER BY agent_id, month, band`).all() as Array<Record<string, unknown>>)
    // Sums as JavaScript prints a double: the shortest text that reads back as the same bits, as PostgreSQL's float8 output is.
    .map((r) => ({ ...r, sd: String(r.sd), su: String(r.su), si: String(r.si) })),
  hours: (f.db.prepare(`SELECT h.agent_id, h.hour_start, h.band, m.month, lower(hex(h.tests)) AS tests FROM rollup_agent_hour h
    JOIN rollup_agent_month m ON m.id = h.month_id ORDER BY 1, 2, 3`).all() as Array<Record<string, unknown>>)
})

/** Samples spread over two months, three bands and a few agents, with invalid and skipped ones (a seeded generator). */
function samples (seed: number, n: number, agents: number): Array<{ agent: number, s: Sample }> {
  let s = seed
  const rnd = (): number => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648 }
  return Array.from({ length: n }, () => {
    const minute = Math.floor(rnd() * 6 * 24 * 60)
    const d = new Date(Date.parse('2026-10-25T00:00:00+07:00') + minute * 60_000 + 7 * 3_600_000)
    const at = d.toISOString().slice(0, 16).replace('T', ' ')
    const r = rnd()
    return {
      agent: Math.floor(rnd() * agents),
      s: r < 0.1
        ? { at, kind: 'skip' as const }
        : { at, down: Math.round(rnd() * 5000) / 7, up: rnd() < 0.2 ? null : Math.round(rnd() * 2000) / 3, idle: rnd() < 0.1 ? null : rnd() * 40, flags: r < 0.2 ? ['cross_traffic' as const] : [], offsetMs: rnd() < 0.1 ? null : 5 }
    }
  })
}

describe('PostgreSQL result store', () => {
  const cleanup: Array<() => Promise<void>> = []
  afterEach(async () => { for (const f of cleanup.splice(0).reverse()) await f() })
  const fixture = async (...a: Parameters<typeof pgFixture>): Promise<PgFixture> => {
    const f = await pgFixture(...a)
    cleanup.push(f.close)
    return f
  }

  it('accepted, duplicate, conflict and rejected, each in its place, the first copy kept; a repeated id within one group compares with its first copy', async () => {
    const f = await fixture(2)
    const store = await PostgresResultStore.open(f.pools[0]!)
    const [a1, a2] = f.agents as [AgentRow, AgentRow]
    const first = record({ at: '2026-10-05 09:00', down: 100, up: 40, idle: 10 })
    const other = record({ at: '2026-10-05 10:00', down: 200, up: 40, idle: 10 })
    const changed: ResultRecord = { ...first, download: { ...first.download!, mbps: 999 } }
    const c1 = await store.commitGroup([
      { batch: f.batch(a1, [first, { not: 'a record' }, other]), seen: null },
      { batch: f.batch(a2, [first]), seen: null },
      { batch: f.batch(a1, [first, changed]), seen: null }
    ])
    expect(c1.outcomes.map((o) => [o.accepted, o.duplicate, o.conflict, o.rejected])).toEqual([[2, 0, 0, 1], [1, 0, 0, 0], [0, 1, 1, 0]])
    expect(c1.outcomes[0]!.items.map((i) => i.status)).toEqual(['accepted', 'rejected', 'accepted'])
    const c2 = await store.commitGroup([{ batch: f.batch(a1, [changed, first, other]), seen: null }])
    expect(c2.outcomes[0]!.items.map((i) => i.status)).toEqual(['conflict', 'duplicate', 'duplicate'])
    const p = f.pools[0]!
    expect(await count(p, 'result')).toBe(3)
    expect(await count(p, 'result_key')).toBe(3)
    expect((await p.query('SELECT download_mbps FROM result WHERE agent_id = $1 AND result_id = $2', [a1.id, first.id])).rows[0].download_mbps).toBe(100)
    expect((await p.query('SELECT sum(n_results)::int AS n FROM rollup_agent_month')).rows[0].n).toBe(3)
    // The month's partition was made, and the next month's ahead of it.
    expect((await p.query("SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE 'result\\_2026\\_%' ORDER BY 1")).rows.map((r) => r.relname)).toEqual(['result_2026_10', 'result_2026_11'])
  })

  it('one failing write rolls back the whole group: results, keys, rollups, IPv6 evidence and heartbeats', async () => {
    const f = await fixture(2)
    const p = f.pools[0]!
    const store = await PostgresResultStore.open(p)
    const [a1, a2] = f.agents as [AgentRow, AgentRow]
    await p.query(`CREATE FUNCTION fail_heartbeat () RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'write failed'; END $$;
      CREATE TRIGGER failing_heartbeat BEFORE UPDATE ON agent FOR EACH ROW WHEN (NEW.id = '${a2.id}') EXECUTE FUNCTION fail_heartbeat()`)
    const v6 = record({ at: '2026-10-05 09:00', down: 100 })
    v6.server = { ...v6.server!, family: 6 }
    const beat = (agentId: string): CommitJob['seen'] => ({ kind: 'heartbeat', agentId, at: RECEIVED, heartbeat: { agentVersion: '9.9.9', configVersion: 3, uptimeS: 60, queue: { pending: 1, oldestAgeS: 30, dead: 0, bytes: 900 }, counters: { missedSlots: 1 }, clock: { offsetMs: -40, sinceSyncS: 20 } } })
    await expect(store.commitGroup([
      { batch: f.batch(a1, [v6]), seen: beat(a1.id) },
      { batch: f.batch(a2, [record({ at: '2026-10-05 10:00', down: 50 })]), seen: beat(a2.id) }
    ])).rejects.toThrow('write failed')
    for (const table of ['result', 'result_key', 'rollup_agent_hour', 'rollup_agent_month', 'ipv6_evidence', 'rollup_change']) expect(await count(p, table), table).toBe(0)
    expect((await p.query('SELECT last_sync_at FROM agent WHERE id = $1', [a1.id])).rows[0].last_sync_at).toBeNull()
    await store.commitGroup([{ batch: f.batch(a1, [v6]), seen: beat(a1.id) }])
    expect(await count(p, 'result')).toBe(1)
    expect((await p.query('SELECT connected FROM ipv6_evidence')).rows[0].connected).toBe(1)
    expect((await p.query('SELECT last_sync_at, queue_pending, counters FROM agent WHERE id = $1', [a1.id])).rows[0]).toEqual({ last_sync_at: RECEIVED, queue_pending: 1, counters: '{"missedSlots":1}' })
  })

  it('the same groups give the same rollups as on SQLite, to the last bit, and equal a rebuild from raw on both', async () => {
    const sqlite = await seededDb()
    cleanup.push(sqlite.close)
    const A = await sqlite.agency('A', '23281', { category: 'organisation', connectionClass: 'fixed', isp: 'VNPT' })
    const agents = [await sqlite.agent(A, 'a1'), await sqlite.agent(A, 'a2'), await sqlite.agent(A, 'a3')]
    const f = await fixture(0, 1, { agency: A, agents })
    const pg = await PostgresResultStore.open(f.pools[0]!)
    const all = samples(42, 300, agents.length)
    const records = all.map((x) => ({ agent: x.agent, r: record(x.s) }))
    // Groups of several jobs, each job one agent's part of a slice, in delivery order; then resends.
    for (let i = 0; i < records.length; i += 23) {
      const slice = records.slice(i, i + 23)
      const jobs = (): CommitJob[] => agents.map((a, k) => ({ batch: ingestor.prepare(a, A, slice.filter((x) => x.agent === k).map((x) => x.r), RECEIVED), seen: null }))
      const s = await sqlite.stores.results.commitGroup(jobs())
      const p = await pg.commitGroup(jobs())
      expect(p.outcomes).toEqual(s.outcomes)
    }
    const resend = records.filter((x) => x.agent === 0).slice(0, 20).map((x) => x.r)
    const again = (await pg.commitGroup([{ batch: ingestor.prepare(agents[0]!, A, resend, RECEIVED), seen: null }])).outcomes[0]!
    expect([again.accepted, again.duplicate]).toEqual([0, resend.length])
    const incremental = await pgRollups(f.pools[0]!)
    expect(incremental).toEqual(sqliteRollups(sqlite))
    expect((incremental as { months: unknown[] }).months.length).toBeGreaterThan(10)
    // A rebuild from the raw rows reads them in the same order and pages on both stores: the same bits again.
    expect(await pg.rebuildRollups()).toEqual(await sqlite.stores.results.rebuildRollups())
    expect(await pgRollups(f.pools[0]!)).toEqual(sqliteRollups(sqlite))
    // And the reports' reads agree.
    const reader = new PostgresRollupReader(f.pools[0]!)
    const byKey = (rows: Array<{ agentId: string, month: string, band: string }>): unknown => [...rows].sort((x, y) => `${x.agentId}${x.month}${x.band}` < `${y.agentId}${y.month}${y.band}` ? -1 : 1)
    expect(byKey(await reader.rowsInRange({ column: 'legacy_province_code', code: '62' }, null, null)))
      .toEqual(byKey(await sqlite.stores.rollups.rowsInRange({ column: 'legacy_province_code', code: '62' }, null, null)))
  })

  it('two collectors committing overlapping groups at once: no deadlock, each result stored once, rollups equal a rebuild', async () => {
    const f = await fixture(6, 2)
    const [s1, s2] = await Promise.all(f.pools.map(async (p) => await PostgresResultStore.open(p)))
    const all = samples(7, 600, f.agents.length).map((x) => ({ agent: x.agent, r: record(x.s) }))
    // Each collector gets every result in the same groups at the same time, each group's jobs and items in opposite
    // orders (the order a deadlock needs), four groups in flight each.
    const groups = (list: typeof all, size: number, reverse: boolean): CommitJob[][] => {
      const out: CommitJob[][] = []
      for (let i = 0; i < list.length; i += size) {
        const slice = list.slice(i, i + size)
        const jobs = f.agents.map((a, k) => {
          const records = slice.filter((x) => x.agent === k).map((x) => x.r)
          return { batch: f.batch(a, reverse ? records.reverse() : records), seen: { kind: 'seen' as const, agentId: a.id, at: RECEIVED + i } }
        })
        out.push(reverse ? jobs.reverse() : jobs)
      }
      return out
    }
    const run = async (store: PostgresResultStore, list: CommitJob[][]): Promise<number> => {
      let accepted = 0
      const queue = [...list]
      await Promise.all(Array.from({ length: 4 }, async () => {
        for (let g = queue.shift(); g !== undefined; g = queue.shift()) {
          for (const o of (await store.commitGroup(g)).outcomes) { accepted += o.accepted; expect([o.conflict, o.rejected]).toEqual([0, 0]) }
        }
      }))
      return accepted
    }
    const [n1, n2] = await Promise.all([run(s1!, groups(all, 40, false)), run(s2!, groups(all, 40, true))])
    expect(n1 + n2).toBe(all.length)
    const p = f.pools[0]!
    expect(await count(p, 'result')).toBe(all.length)
    expect((await p.query('SELECT count(DISTINCT (agent_id, result_id))::int AS n FROM result')).rows[0].n).toBe(all.length)
    expect((await p.query('SELECT sum(n_results)::int AS n FROM rollup_agent_month')).rows[0].n).toBe(all.length)
    // Figures summed in another order differ in the last bits; counts and samples must not.
    const exact = async (): Promise<unknown> => (await p.query(`SELECT agent_id, month, band, n_results, n_speed, n_valid, n_skip, n_test_up, n_test_idle, n_test_down_ge30,
      round(sum_test_down::numeric, 6) AS sd, round(sum_test_up::numeric, 6) AS su, round(sum_test_idle::numeric, 6) AS si,
      encode(rep_down, 'hex') AS d, encode(rep_up, 'hex') AS u, encode(rep_idle, 'hex') AS i
      FROM rollup_agent_month ORDER BY agent_id COLLATE "C", month, band`)).rows
    const incremental = await exact()
    await s1!.rebuildRollups()
    expect(await exact()).toEqual(incremental)
  })

  it('another collector\'s commit is seen by this collector\'s change signal, month by month; a rebuild says all', async () => {
    const f = await fixture(1, 2)
    const [s1, s2] = await Promise.all(f.pools.map(async (p) => await PostgresResultStore.open(p)))
    const r1 = new PostgresRollupReader(f.pools[0]!)
    const a = f.agents[0]!
    const first = await r1.changesSince(null)
    expect(first.months).toBe('all')
    expect(await r1.changesSince(first.generation)).toEqual({ generation: first.generation, months: [] })
    await s2!.commitGroup([{ batch: f.batch(a, [record({ at: '2026-10-05 09:00', down: 100 })]), seen: null }])
    const second = await r1.changesSince(first.generation)
    expect(second.months).toEqual(['2026-10'])
    await s1!.commitGroup([{ batch: f.batch(a, [record({ at: '2026-09-05 09:00', down: 100 }), record({ at: '2026-10-06 09:00', down: 100 })]), seen: null }])
    expect([...(await r1.changesSince(second.generation)).months].sort()).toEqual(['2026-09', '2026-10'])
    const third = await r1.changesSince(null)
    await s2!.rebuildRollups()
    const fourth = await r1.changesSince(third.generation)
    expect(fourth.months).toBe('all')
    // A fix made outside the store (psql, a script) says 'all' too, through migration 020's trigger.
    await f.pools[1]!.query("UPDATE rollup_agent_month SET isp = 'FPT' WHERE month = '2026-09'")
    expect((await r1.changesSince(fourth.generation)).months).toBe('all')
  })

  it('the month cache in front of one collector\'s reader drops exactly the months another collector\'s commit touched', async () => {
    const f = await fixture(1, 2)
    const [s1, s2] = await Promise.all(f.pools.map(async (p) => await PostgresResultStore.open(p)))
    const a = f.agents[0]!
    const reader = new CachedRollupReader(new PostgresRollupReader(f.pools[0]!))
    await s1!.commitGroup([{ batch: f.batch(a, [record({ at: '2026-10-05 09:00', down: 100 }), record({ at: '2026-09-05 09:00', down: 50 })]), seen: null }])
    const rolling = parsePeriod('rolling12', '2026-10', 'all')
    const now = Date.parse('2026-11-02T00:00:00Z')
    const samples = async (): Promise<number> => (await readMonthRows(reader, { column: 'legacy_province_code', code: '62' }, rolling, now)).reduce((n, r) => n + r.repDown.length, 0)
    expect(await samples()).toBe(2)
    expect(await samples()).toBe(2)
    expect(reader.cache.hits).toBeGreaterThanOrEqual(12)
    await s2!.commitGroup([{ batch: f.batch(a, [record({ at: '2026-10-06 10:00', down: 120 })]), seen: null }])
    const misses = reader.cache.misses
    expect(await samples()).toBe(3)
    expect(reader.cache.misses - misses).toBe(1)
  })

  it('month packs: built by the job for closed months only, served while current, stale (and listed again) after a late result from any collector', async () => {
    const f = await fixture(1, 2)
    const [s1, s2] = await Promise.all(f.pools.map(async (p) => await PostgresResultStore.open(p)))
    const reader = new PostgresRollupReader(f.pools[0]!)
    const a = f.agents[0]!
    const now = Date.parse('2026-11-02T00:00:00Z')
    await s1!.commitGroup([{ batch: f.batch(a, [record({ at: '2026-10-05 09:00', down: 100 }), record({ at: '2026-11-01 09:00', down: 50 })]), seen: null }])
    const missing = await reader.monthPacksMissing(now)
    expect(missing).toEqual([{ month: '2026-10', scope: 'legacy_province_code', code: '62' }, { month: '2026-10', scope: 'province_code', code: '51' }])
    expect(await reader.buildMonthPack({ month: '2026-11', scope: 'province_code', code: '51' }, now)).toBe(false)
    for (const k of missing) expect(await reader.buildMonthPack(k, now)).toBe(true)
    expect(await reader.monthPacksMissing(now)).toEqual([])
    const filter = { column: 'province_code' as const, code: '51' }
    const fromRows = await reader.rowsInRange(filter, '2026-10', '2026-10')
    expect((await reader.rowsByMonth(filter, ['2026-10'], now)).months.get('2026-10')).toEqual(fromRows)
    // A late October result through the other collector: the pack is stale at once, the rows are read, and the job rebuilds it.
    await s2!.commitGroup([{ batch: f.batch(a, [record({ at: '2026-10-06 09:00', down: 300 })]), seen: null }])
    const read = (await reader.rowsByMonth(filter, ['2026-10'], now)).months.get('2026-10')!
    expect(read.reduce((n, r) => n + r.nResults, 0)).toBe(2)
    expect(await reader.monthPacksMissing(now)).toEqual(missing)
  })

  it('retention drops whole months, deletes the rest of the cutoff\'s month row by row, at most `limit` per call, and keeps the rollups', async () => {
    const f = await fixture(1)
    const p = f.pools[0]!
    const store = await PostgresResultStore.open(p)
    const a = f.agents[0]!
    await store.commitGroup([{
      batch: f.batch(a, [
        record({ at: '2026-08-20 09:00', down: 5 }),
        record({ at: '2026-09-01 09:00', down: 10 }), record({ at: '2026-09-02 09:00', down: 20 }), record({ at: '2026-09-03 09:00', down: 30 }),
        record({ at: '2026-10-01 09:00', down: 35 }), record({ at: '2026-10-05 09:00', down: 40 })
      ]),
      seen: null
    }])
    const months = async (): Promise<unknown> => (await p.query('SELECT * FROM rollup_agent_month ORDER BY id')).rows
    const before = await months()
    const cutoff = Date.parse('2026-10-02T00:00:00+07:00')
    const got: number[] = []
    for (let n = -1; n !== 0;) { n = await store.deleteResultsBefore(cutoff, 2); got.push(n) }
    expect(got).toEqual([2, 2, 1, 0])
    expect(await count(p, 'result')).toBe(1)
    expect(await count(p, 'result_key')).toBe(1)
    expect((await p.query("SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE 'result\\_2026\\_%' ORDER BY 1")).rows.map((r) => r.relname)).toEqual(['result_2026_10', 'result_2026_11'])
    expect(await months()).toEqual(before)
    // A resend of a deleted result is stored again, in a partition made again for it, as on SQLite.
    const again = await store.commitGroup([{ batch: f.batch(a, [record({ at: '2026-09-01 09:00', down: 10 })]), seen: null }])
    expect(again.outcomes[0]!.accepted).toBe(1)
  })
})
