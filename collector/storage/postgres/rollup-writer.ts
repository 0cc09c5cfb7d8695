import type pg from 'pg'
import { decode, encode } from '../../aggregation/float-blob.js'
import { MONTH_COUNTER_COLUMNS, monthCountersOf, type StoredMonthCounters } from '../rows.js'
import { applyRollupGroup, groupRollupInputs, monthRowKey } from '../../aggregation/rollup-apply.js'
import { ROLLUP_VERSION, type MonthCounters, type RollupInput } from '../../aggregation/rollup.js'
import { SIGNALLED, bumpMonths } from './changes.js'
import { runWrites, type Write } from './writes.js'

type Queryable = Pick<pg.ClientBase, 'query'>

interface MonthState extends MonthCounters { id: number }

interface StoredMonth extends StoredMonthCounters { id: number }

const KEY_COLUMNS = 'agent_id, month, band, connection_class, isp, agency_id, commune_code, province_code, legacy_district_code, legacy_province_code'
/** The agents' rollup locks (migration 020's lock_rollup_agents: sorted, transaction-level), for a text[] parameter. */
const LOCK_AGENTS_SQL = 'SELECT lock_rollup_agents($1::text[])'
const KEY_ARRAYS = '$1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[]'

/**
 * Keeps rollup_agent_hour and rollup_agent_month (migration 020) up to date on PostgreSQL, inside
 * the caller's transaction, with the same arithmetic as SQLite (aggregation/rollup-apply.ts): the
 * same groups, the same float additions in the same order, so the figures are the same to the
 * last bit for the same batches.
 *
 * Two collectors may commit results of one agent at once (a retry through the other one). The
 * batch first takes the advisory lock of each agent it touches, in one sorted order
 * (lock_rollup_agents, migration 020), so the read-compute-write of an agent's rows is never
 * interleaved with another's and two transactions never wait on each other in a cycle. Ingest
 * takes those locks in its first round trip (`locked`: results.ts); a rebuild holds the tables
 * and takes them here. Each step is one statement over arrays, whatever the batch's size.
 *
 * The reads run here; the two writes (hour rows, month counters) come back for the caller to
 * run, with its own, in one statement (writes.ts): every row they touch belongs to an agent
 * whose lock is held. Rows read by a later call in the same transaction need those writes run first.
 */
export async function applyRollups (client: Queryable, rows: readonly RollupInput[], { locked = false } = {}): Promise<{ months: Set<string>, writes: Write[] }> {
  const groups = groupRollupInputs(rows)
  const months = new Set(groups.map((g) => g.month))
  if (groups.length === 0) return { months, writes: [] }
  if (!locked) await client.query(LOCK_AGENTS_SQL, [[...new Set(groups.map((g) => g.agentId))]])

  const hours = await client.query<{ agent_id: string, hour_start: number, band: string, month_id: number, tests: Buffer }>(
    `SELECT agent_id, hour_start, band, month_id, tests FROM rollup_agent_hour
     WHERE (agent_id, hour_start, band) IN (SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[]))`,
    [groups.map((g) => g.agentId), groups.map((g) => g.hour), groups.map((g) => g.band)])
  const hourKey = (agentId: string, hour: number, band: string): string => `${agentId}\u0000${hour}\u0000${band}`
  const hourRows = new Map(hours.rows.map((h) => [hourKey(h.agent_id, Number(h.hour_start), h.band), h]))

  // Month rows for the hours not seen before, by their attributes (created empty when
  // missing), and the counters of every month row the batch adds to, in one statement. Its
  // snapshot is taken after this transaction holds the agents' locks, so every month row of
  // these agents committed before is in it; none can be committed meanwhile.
  const keys = new Map<string, ReturnType<typeof monthRowKey>>()
  const known = new Set<number>()
  for (const g of groups) {
    const h = hourRows.get(hourKey(g.agentId, g.hour, g.band))
    if (h !== undefined) { known.add(Number(h.month_id)); continue }
    const k = monthRowKey(g)
    keys.set(k.join('\u0000'), k)
  }
  const cols = Array.from({ length: 10 }, (_, i) => [...keys.values()].map((k) => k[i]))
  const monthRows = await client.query<StoredMonth & Record<string, string>>(`WITH k AS (SELECT * FROM unnest(${KEY_ARRAYS}) AS k(${KEY_COLUMNS})),
      ins AS (INSERT INTO rollup_agent_month (${KEY_COLUMNS}) SELECT * FROM k ON CONFLICT DO NOTHING RETURNING id, ${KEY_COLUMNS}, ${MONTH_COUNTER_COLUMNS})
    SELECT * FROM ins
    UNION ALL
    SELECT id, ${KEY_COLUMNS}, ${MONTH_COUNTER_COLUMNS} FROM rollup_agent_month WHERE (${KEY_COLUMNS}) IN (SELECT * FROM k) OR id = ANY($11::bigint[])`,
  [...cols, [...known]])
  const monthIds = new Map<string, number>()
  const state = new Map<number, MonthState>()
  for (const r of monthRows.rows) {
    const id = Number(r.id)
    state.set(id, { id, ...monthCountersOf(r) })
    monthIds.set([r.agent_id, r.month, r.band, r.connection_class, r.isp, r.agency_id, r.commune_code, r.province_code,
      r.legacy_district_code, r.legacy_province_code].join('\u0000'), id)
  }
  const monthIdOf = (g: (typeof groups)[number]): number => {
    const h = hourRows.get(hourKey(g.agentId, g.hour, g.band))
    if (h !== undefined) return Number(h.month_id)
    const id = monthIds.get(monthRowKey(g).join('\u0000'))
    if (id === undefined) throw new Error(`rollup month row of ${g.agentId} ${g.month} ${g.band} missing after its insert`)
    return id
  }

  const hourPuts: Array<[string, number, string, number, Buffer]> = []
  for (const g of groups) {
    const monthId = monthIdOf(g)
    const m = state.get(monthId)
    if (m === undefined) throw new Error(`rollup month row ${monthId} missing`)
    const h = hourRows.get(hourKey(g.agentId, g.hour, g.band))
    const tests = applyRollupGroup(m, h === undefined ? null : decode(h.tests), g.rows)
    if (tests !== null) hourPuts.push([g.agentId, g.hour, g.band, monthId, encode(tests)])
  }
  const writes: Write[] = []
  if (hourPuts.length > 0) {
    writes.push({
      sql: `INSERT INTO rollup_agent_hour (agent_id, hour_start, band, month_id, tests)
      SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bytea[])
      ON CONFLICT (agent_id, hour_start, band) DO UPDATE SET tests = excluded.tests`,
      params: [0, 1, 2, 3, 4].map((i) => hourPuts.map((p) => p[i]))
    })
  }
  const ms = [...state.values()]
  writes.push({
    sql: `UPDATE rollup_agent_month m SET n_results = u.n_results, n_speed = u.n_speed, n_valid = u.n_valid, n_skip = u.n_skip,
      sum_test_down = u.sum_test_down, n_test_up = u.n_test_up, sum_test_up = u.sum_test_up, n_test_idle = u.n_test_idle,
      sum_test_idle = u.sum_test_idle, n_test_down_ge30 = u.n_test_down_ge30, rep_down = u.rep_down, rep_up = u.rep_up, rep_idle = u.rep_idle
    FROM unnest($1::bigint[], $2::int[], $3::int[], $4::int[], $5::int[], $6::float8[], $7::int[], $8::float8[], $9::int[], $10::float8[],
      $11::int[], $12::bytea[], $13::bytea[], $14::bytea[])
      AS u(id, n_results, n_speed, n_valid, n_skip, sum_test_down, n_test_up, sum_test_up, n_test_idle, sum_test_idle, n_test_down_ge30, rep_down, rep_up, rep_idle)
    WHERE m.id = u.id`,
    params: [
      ms.map((m) => m.id), ms.map((m) => m.nResults), ms.map((m) => m.nSpeed), ms.map((m) => m.nValid), ms.map((m) => m.nSkip),
      ms.map((m) => m.sumTestDown), ms.map((m) => m.nTestUp), ms.map((m) => m.sumTestUp), ms.map((m) => m.nTestIdle), ms.map((m) => m.sumTestIdle),
      ms.map((m) => m.nTestDownGe30), ms.map((m) => encode(m.repDown)), ms.map((m) => encode(m.repUp)),
      ms.map((m) => encode(m.repIdle))
    ]
  })
  return { months, writes }
}

/** SELECT list that turns result rows into RollupInput (the same columns as SQLite's rebuild reads). */
const RESULT_ROLLUP_COLUMNS = `agent_id AS "agentId", result_id AS "resultId", kind, valid, measured_at_corr AS "measuredAtCorr",
  clock_flags AS "clockFlags", download_mbps AS "downloadMbps", upload_mbps AS "uploadMbps", idle_latency_ms AS "idleLatencyMs",
  agency_id AS "agencyId", connection_class AS "connectionClass", isp, commune_code AS "communeCode", province_code AS "provinceCode",
  legacy_district_code AS "legacyDistrictCode", legacy_province_code AS "legacyProvinceCode"`

/**
 * Rebuilds both rollup tables from the result table in one transaction on `client` (which
 * must not be in one): the tables are locked against ingest's rollup writes (ingest takes its
 * table locks first, so it waits at its start), emptied, and refilled in pages of `batch` rows
 * in (agent_id, result_id) byte order, the pages SQLite's rebuild uses, so a rebuild's figures
 * equal SQLite's. Reports keep reading the old rows until the commit. With `onlyIfStale`, a
 * rebuild another collector finished meanwhile is not repeated. Null when skipped.
 */
export async function rebuildRollups (client: pg.PoolClient, { batch = 20_000, now = Date.now(), onlyIfStale = false } = {}): Promise<{ rows: number } | null> {
  await client.query('BEGIN')
  try {
    // `result` first, as ingest and retention take it: then the rollup tables, which ingest takes after it.
    await client.query(`${SIGNALLED}; LOCK TABLE ONLY result IN ACCESS SHARE MODE; LOCK TABLE rollup_agent_hour, rollup_agent_month IN EXCLUSIVE MODE`)
    if (onlyIfStale && await rollupsCurrent(client)) { await client.query('COMMIT'); return null }
    await client.query('DELETE FROM rollup_agent_hour')
    await client.query('DELETE FROM rollup_agent_month')
    await client.query(`DECLARE rollup_rebuild NO SCROLL CURSOR FOR SELECT ${RESULT_ROLLUP_COLUMNS} FROM result
      ORDER BY agent_id COLLATE "C", result_id COLLATE "C"`)
    let rows = 0
    for (;;) {
      const chunk = await client.query<RollupInput>(`FETCH ${batch} FROM rollup_rebuild`)
      if (chunk.rows.length === 0) break
      await runWrites(client, (await applyRollups(client, chunk.rows)).writes)
      rows += chunk.rows.length
    }
    await client.query('CLOSE rollup_rebuild')
    await markRollupsCurrent(client, now)
    await bumpMonths(client, ['*'])
    await client.query('COMMIT')
    return { rows }
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  }
}

export async function rollupsCurrent (client: Queryable): Promise<boolean> {
  const { rows } = await client.query<{ version: number }>("SELECT version FROM rollup_state WHERE name = 'agent_rollups'")
  return rows[0]?.version === ROLLUP_VERSION
}

export async function markRollupsCurrent (client: Queryable, now = Date.now()): Promise<void> {
  await client.query(`INSERT INTO rollup_state (name, version, built_at) VALUES ('agent_rollups', $1, $2)
    ON CONFLICT (name) DO UPDATE SET version = excluded.version, built_at = excluded.built_at`, [ROLLUP_VERSION, now])
}
