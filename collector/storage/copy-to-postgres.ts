import Database from 'better-sqlite3'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { TocdoError } from '../../shared/errors.js'
import { vnMonth } from '../../shared/vn-time.js'
import type { Db } from './db.js'
import { migrations as sqliteMigrations } from './migrations/index.js'
import { migratePostgres } from './postgres/migrate.js'
import { connectPool, type Pool, type PoolClient } from './postgres/pool.js'
import { PostgresResultStore } from './postgres/results.js'
import { postgresStores } from './postgres/index.js'
import { SqliteGeoStore } from './sqlite/geo.js'
import { SqliteIpv6Store } from './sqlite/ipv6.js'
import { SqliteRollupReader } from './sqlite/rollups.js'
import type { Stores } from './stores.js'

/**
 * Moving a province from the embedded SQLite store to PostgreSQL (docs/storage.md, "Moving a
 * province to PostgreSQL"): every table's rows copied in their logical order, in batches, from
 * one read snapshot of the SQLite file (opened read-only, so the collector may keep running on
 * it), then compared table by table and row by row. Safe to re-run: a result whose key is
 * already there is skipped, and one whose payload hash differs from the stored one is a conflict,
 * reported and never overwritten; any other row changed on SQLite since the last run (an agent's
 * heartbeat, an edited agency) is brought up to date, SQLite being the source until the collector
 * is switched over.
 */

type Row = Record<string, unknown>

/**
 * The tables copied as they are, parents before children (agents need their agency, codes and
 * checks theirs). `result` and the rollups are copied apart (below).
 */
const PLAIN_TABLES = [
  'geo_province', 'geo_district', 'geo_commune', 'geo_commune_merge', 'geo_province_merge', 'target',
  'agency', 'agent', 'enrolment_code', 'admin_token', 'remote_config', 'admin_audit',
  'agency_service', 'ipv6_check', 'ipv6_evidence', 'ipv6_evidence_state'
] as const
/** Tables with an identity id copied as stored: their sequence is moved past the copied ids. */
const IDENTITY_TABLES = new Set(['admin_audit', 'rollup_agent_month'])
const ROLLUP_TABLES = ['rollup_state', 'rollup_agent_month', 'rollup_agent_hour'] as const
/**
 * SQLite tables not copied: the migration record (PostgreSQL keeps its own), and the month
 * packs, which the PostgreSQL collector's month-pack job builds from the rollups.
 */
const NOT_COPIED = new Set(['schema_migrations', 'rollup_month_pack', 'sqlite_sequence', 'sqlite_stat1'])

/** SQLite columns PostgreSQL does without: result.id is SQLite's rowid alias (its migration 011); PostgreSQL keys results by (agent_id, result_id). */
const SQLITE_ONLY: Readonly<Record<string, readonly string[]>> = { result: ['id'] }

/** PostgreSQL's limit on the parameters of one statement is 65,535. */
const MAX_PARAMS = 60_000

export interface TableCopy { table: string, read: number, inserted: number, /** Rows already there that differed, brought up to date. */ updated: number }
export interface ResultConflict { agentId: string, resultId: string }
export interface CopySummary {
  tables: TableCopy[]
  results: { read: number, inserted: number, alreadyThere: number, conflicts: ResultConflict[] }
  /** How the rollups were made: copied as stored (a target without results), rebuilt from the results there, or left as they were. */
  rollups: 'copied' | 'rebuilt' | 'unchanged'
}

export interface AgentDifference { agentId: string, sqlite: number, postgres: number, hashes: 'equal' | 'differ', resultIds: string[] }
export interface ResultComparison { agents: number, results: number, differences: AgentDifference[] }
/** One row of a copied table that is not the same on both: its key, and the columns that differ (every column when a side lacks the row). */
export interface RowDifference { table: string, key: Record<string, unknown>, missingOn: 'postgres' | 'sqlite' | null, columns: string[] }
export interface TableComparison { tables: number, rows: number, differences: RowDifference[] }

/** The stores the report comparison reads: the SQLite file read-only, PostgreSQL in full. */
export type ReportSide = Pick<Stores, 'rollups' | 'geo' | 'ipv6'>

export interface StoreMigration {
  copy: (opts?: { batchRows?: number, onProgress?: (what: string, n: number) => void }) => Promise<CopySummary>
  compareResults: () => Promise<ResultComparison>
  /** Every copied table but `result` and the rollups (compared by results and reports), row by row and column by column. */
  compareTables: () => Promise<TableComparison>
  sqlite: ReportSide
  postgres: ReportSide
  close: () => Promise<void>
}

/**
 * Opens the SQLite file read-only and the PostgreSQL database at `url`, migrating its schema.
 * The SQLite file must exist and carry every migration of this collector (an older collector's
 * file is migrated by starting this version on it once).
 */
export async function openStoreMigration (file: string, url: string): Promise<StoreMigration> {
  if (!existsSync(file)) throw new TocdoError('TOCDO_ERR_VALIDATION', `no collector database at ${file}; give the data dir of the collector to move with --data-dir (or TOCDO_DATA_DIR)`, { details: { field: 'data-dir' } })
  const db: Db = new Database(file, { readonly: true, fileMustExist: true })
  try {
    db.pragma('busy_timeout = 5000')
    const applied = new Set(db.prepare('SELECT name FROM schema_migrations').pluck().all() as string[])
    const missing = sqliteMigrations.map((m) => m.name).filter((n) => !applied.has(n))
    if (missing.length > 0) {
      throw new TocdoError('TOCDO_ERR_VALIDATION', `${file} lacks migrations ${missing.join(', ')}: start this collector version on it once (it migrates at start), then migrate`, { details: { field: 'data-dir' } })
    }
  } catch (err) {
    db.close()
    throw err
  }
  let pool: Pool
  try {
    pool = await connectPool(url, { max: 4, applicationName: 'tocdo-collector migrate' })
  } catch (err) {
    db.close()
    throw err
  }
  let pg: Stores
  try {
    await migratePostgres(pool)
    pg = await postgresStores(pool)
  } catch (err) {
    db.close()
    await pool.end()
    throw err
  }
  return {
    copy: async (opts) => await copyAll(db, pool, opts),
    compareResults: async () => await compareResults(db, pool),
    compareTables: async () => await compareTables(db, pool),
    sqlite: { rollups: new SqliteRollupReader(db), geo: new SqliteGeoStore(db), ipv6: new SqliteIpv6Store(db) },
    postgres: pg,
    close: async () => { db.close(); await pg.close() }
  }
}

function sqliteColumns (db: Db, table: string): string[] {
  return (db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table) as string[])
}

async function postgresColumns (pool: Pool, table: string): Promise<string[]> {
  const { rows } = await pool.query<{ c: string }>(`SELECT column_name AS c FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, [table])
  return rows.map((r) => r.c)
}

/** The columns both stores have, in PostgreSQL's order; a SQLite column PostgreSQL lacks would be data lost, so it fails. */
async function sharedColumns (db: Db, pool: Pool, table: string): Promise<string[]> {
  const pg = await postgresColumns(pool, table)
  const lite = sqliteColumns(db, table).filter((c) => !(SQLITE_ONLY[table] ?? []).includes(c))
  const lost = lite.filter((c) => !pg.includes(c))
  if (pg.length === 0 || lost.length > 0) {
    throw new TocdoError('TOCDO_ERR_INTERNAL', `table ${table}: the PostgreSQL schema lacks ${pg.length === 0 ? 'the table' : `columns ${lost.join(', ')}`}; nothing of it was copied`)
  }
  return pg.filter((c) => lite.includes(c))
}

/** The primary key's columns of a PostgreSQL table, in key order (empty when it has none). */
async function primaryKey (pool: Pool, table: string): Promise<string[]> {
  const { rows } = await pool.query<{ c: string }>(`SELECT a.attname AS c FROM pg_index i
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
    WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)`, [table])
  return rows.map((r) => r.c)
}

/**
 * Inserts `rows` into `table`; a row whose primary key `key` is there takes the SQLite values
 * when any differ. Returns how many went in and how many were brought up to date.
 */
async function upsertRows (client: Pick<PoolClient, 'query'>, table: string, cols: readonly string[], key: readonly string[], rows: readonly Row[]): Promise<{ inserted: number, updated: number }> {
  const rest = cols.filter((c) => !key.includes(c))
  if (rows.length === 0) return { inserted: 0, updated: 0 }
  if (key.length === 0 || rest.length === 0) return { inserted: (await insertRows(client, table, cols, rows)).inserted, updated: 0 }
  const values: unknown[] = []
  const tuples = rows.map((r) => `(${cols.map((c) => { values.push(r[c] ?? null); return `$${values.length}` }).join(', ')})`)
  const res = await client.query<{ fresh: boolean }>(`INSERT INTO ${table} AS t (${cols.join(', ')}) VALUES ${tuples.join(', ')}
    ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${rest.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}
      WHERE (${rest.map((c) => `t.${c}`).join(', ')}) IS DISTINCT FROM (${rest.map((c) => `EXCLUDED.${c}`).join(', ')})
    RETURNING (xmax = 0) AS fresh`, values)
  const inserted = res.rows.filter((r) => r.fresh).length
  return { inserted, updated: res.rows.length - inserted }
}

/** Inserts `rows` (objects keyed by `cols`) skipping any whose key is there; returns how many went in. */
async function insertRows (client: Pick<PoolClient, 'query'>, table: string, cols: readonly string[], rows: readonly Row[], returning = ''): Promise<{ inserted: number, returned: Row[] }> {
  if (rows.length === 0) return { inserted: 0, returned: [] }
  const values: unknown[] = []
  const tuples = rows.map((r) => `(${cols.map((c) => { values.push(r[c] ?? null); return `$${values.length}` }).join(', ')})`)
  const res = await client.query(`INSERT INTO ${table} (${cols.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING${returning === '' ? '' : ` RETURNING ${returning}`}`, values)
  return { inserted: res.rowCount ?? 0, returned: res.rows as Row[] }
}

/** Reads `sql` from SQLite in batches of `size` rows, awaiting `fn` on each. */
async function inBatches (db: Db, sql: string, size: number, fn: (rows: Row[]) => Promise<void>): Promise<number> {
  let batch: Row[] = []
  let n = 0
  for (const row of db.prepare(sql).iterate() as IterableIterator<Row>) {
    batch.push(row)
    n++
    if (batch.length >= size) {
      await fn(batch)
      batch = []
    }
  }
  if (batch.length > 0) await fn(batch)
  return n
}

async function copyTable (db: Db, pool: Pool, table: string, batchRows: number, onProgress: (what: string, n: number) => void): Promise<TableCopy> {
  const cols = await sharedColumns(db, pool, table)
  const key = await primaryKey(pool, table)
  const size = Math.max(1, Math.min(batchRows, Math.floor(MAX_PARAMS / cols.length)))
  let inserted = 0
  let updated = 0
  const read = await inBatches(db, `SELECT ${cols.join(', ')} FROM ${table}`, size, async (rows) => {
    const n = await upsertRows(pool, table, cols, key, rows)
    inserted += n.inserted
    updated += n.updated
    onProgress(table, inserted + updated)
  })
  if (IDENTITY_TABLES.has(table)) {
    await pool.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), GREATEST((SELECT max(id) FROM ${table}), 1))`)
  }
  return { table, read, inserted, updated }
}

async function copyAll (db: Db, pool: Pool, { batchRows = 1000, onProgress = () => {} }: { batchRows?: number, onProgress?: (what: string, n: number) => void } = {}): Promise<CopySummary> {
  const sqliteTables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]
  const known = new Set<string>([...PLAIN_TABLES, ...ROLLUP_TABLES, 'result', ...NOT_COPIED])
  const unknown = sqliteTables.filter((t) => !known.has(t))
  if (unknown.length > 0) throw new TocdoError('TOCDO_ERR_INTERNAL', `the SQLite store holds tables this migration does not know how to copy: ${unknown.join(', ')}; nothing was copied`)

  // Rollups as stored only into a target that holds no results or rollups yet (the first run):
  // then they match the copied results exactly. Otherwise they are rebuilt there from its results.
  const targetEmpty = (await pool.query('SELECT (SELECT count(*) FROM result_key) + (SELECT count(*) FROM rollup_agent_month) AS n')).rows[0].n === 0
  const results = await PostgresResultStore.open(pool)

  // One read snapshot of the SQLite file for the whole copy (a running collector keeps writing its WAL past it).
  db.exec('BEGIN')
  try {
    const tables: TableCopy[] = []
    for (const t of PLAIN_TABLES) tables.push(await copyTable(db, pool, t, batchRows, onProgress))
    const copied = await copyResults(db, pool, results, batchRows, onProgress)
    let rollups: CopySummary['rollups'] = 'unchanged'
    if (targetEmpty) {
      for (const t of ROLLUP_TABLES) tables.push(await copyTable(db, pool, t, batchRows, onProgress))
      rollups = 'copied'
    } else if (copied.inserted > 0) {
      await results.rebuildRollups()
      rollups = 'rebuilt'
    }
    return { tables, results: copied, rollups }
  } finally {
    db.exec('COMMIT')
  }
}

/**
 * Results through the PostgreSQL result store's key table: each batch's keys go into result_key
 * (ON CONFLICT DO NOTHING), the rows whose key went in into `result` (its month's partition made
 * first), in one transaction; a key already there is a duplicate when its payload hash is equal,
 * a conflict otherwise.
 */
async function copyResults (db: Db, pool: Pool, store: PostgresResultStore, batchRows: number, onProgress: (what: string, n: number) => void): Promise<CopySummary['results']> {
  const cols = await sharedColumns(db, pool, 'result')
  const size = Math.max(1, Math.min(batchRows, Math.floor(MAX_PARAMS / cols.length)))
  const out: CopySummary['results'] = { read: 0, inserted: 0, alreadyThere: 0, conflicts: [] }
  out.read = await inBatches(db, `SELECT ${cols.join(', ')} FROM result ORDER BY id`, size, async (rows) => {
    await store.ensurePartitions(rows.map((r) => vnMonth(r.measured_at_corr as number)))
    const client = await pool.connect()
    let broken: Error | undefined
    try {
      await client.query('BEGIN; LOCK TABLE ONLY result, result_key IN ROW EXCLUSIVE MODE')
      const sorted = [...rows].sort((a, b) => cmp(a.agent_id as string, b.agent_id as string) || cmp(a.result_id as string, b.result_id as string))
      const { returned } = await insertRows(client, 'result_key', ['agent_id', 'result_id', 'payload_sha256', 'measured_at_corr'], sorted, 'agent_id, result_id')
      const accepted = new Set(returned.map((r) => `${r.agent_id as string}\u0000${r.result_id as string}`))
      const fresh = sorted.filter((r) => accepted.has(`${r.agent_id as string}\u0000${r.result_id as string}`))
      const others = sorted.filter((r) => !accepted.has(`${r.agent_id as string}\u0000${r.result_id as string}`))
      if (fresh.length > 0) await client.query(`INSERT INTO result (${cols.join(', ')}) VALUES ${placeholders(fresh.length, cols.length)}`, fresh.flatMap((r) => cols.map((c) => r[c] ?? null)))
      if (others.length > 0) {
        const { rows: found } = await client.query<{ agent_id: string, result_id: string, payload_sha256: Buffer }>(`SELECT agent_id, result_id, payload_sha256 FROM result_key
          WHERE (agent_id, result_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, [others.map((r) => r.agent_id), others.map((r) => r.result_id)])
        const stored = new Map(found.map((r) => [`${r.agent_id}\u0000${r.result_id}`, r.payload_sha256]))
        for (const r of others) {
          const hash = stored.get(`${r.agent_id as string}\u0000${r.result_id as string}`)
          if (hash !== undefined && hash.equals(r.payload_sha256 as Buffer)) out.alreadyThere++
          else out.conflicts.push({ agentId: r.agent_id as string, resultId: r.result_id as string })
        }
      }
      await client.query('COMMIT')
      out.inserted += fresh.length
    } catch (err) {
      await client.query('ROLLBACK').catch((e: unknown) => { broken = e as Error })
      throw err
    } finally {
      client.release(broken)
    }
    onProgress('result', out.inserted)
  })
  return out
}

const cmp = (a: string, b: string): number => a < b ? -1 : a > b ? 1 : 0

function placeholders (rows: number, cols: number): string {
  const out: string[] = []
  for (let i = 0; i < rows; i++) out.push(`(${Array.from({ length: cols }, (_, j) => `$${i * cols + j + 1}`).join(', ')})`)
  return out.join(', ')
}

/** How many differing agents have their differing result ids named. */
const NAMED_AGENTS = 20

interface AgentDigest { n: number, hash: ReturnType<typeof createHash> }

function addTo (digests: Map<string, AgentDigest>, agentId: string, payloadSha256: Buffer): void {
  let d = digests.get(agentId)
  if (d === undefined) digests.set(agentId, d = { n: 0, hash: createHash('sha256') })
  d.n++
  d.hash.update(payloadSha256)
}

/**
 * Per agent, the count of results and a digest of their payload hashes in (agent, result id)
 * byte order, on both stores; for an agent that differs, the ids of the results that differ
 * (at most 10).
 */
async function compareResults (db: Db, pool: Pool): Promise<ResultComparison> {
  const lite = new Map<string, AgentDigest>()
  for (const r of db.prepare('SELECT agent_id, payload_sha256 FROM result ORDER BY agent_id, result_id').iterate() as IterableIterator<{ agent_id: string, payload_sha256: Buffer }>) {
    addTo(lite, r.agent_id, r.payload_sha256)
  }
  const pg = new Map<string, AgentDigest>()
  const client = await pool.connect()
  try {
    await client.query(`BEGIN READ ONLY; DECLARE digest NO SCROLL CURSOR FOR
      SELECT agent_id, payload_sha256 FROM result ORDER BY agent_id COLLATE "C", result_id COLLATE "C"`)
    for (;;) {
      const { rows } = await client.query<{ agent_id: string, payload_sha256: Buffer }>('FETCH 10000 FROM digest')
      for (const r of rows) addTo(pg, r.agent_id, r.payload_sha256)
      if (rows.length < 10000) break
    }
    await client.query('COMMIT')
  } finally {
    client.release()
  }
  const agents = [...new Set([...lite.keys(), ...pg.keys()])].sort(cmp)
  const differences: AgentDifference[] = []
  let results = 0
  for (const agentId of agents) {
    const a = lite.get(agentId)
    const b = pg.get(agentId)
    results += a?.n ?? 0
    const ha = a?.hash.digest('hex') ?? ''
    const hb = b?.hash.digest('hex') ?? ''
    if ((a?.n ?? 0) === (b?.n ?? 0) && ha === hb) continue
    // The differing ids are looked up for the first agents only: a store still taking results differs for every agent.
    const resultIds = differences.length < NAMED_AGENTS ? await differingResults(db, pool, agentId) : []
    differences.push({ agentId, sqlite: a?.n ?? 0, postgres: b?.n ?? 0, hashes: ha === hb ? 'equal' : 'differ', resultIds })
  }
  return { agents: agents.length, results, differences }
}

async function differingResults (db: Db, pool: Pool, agentId: string): Promise<string[]> {
  const lite = new Map((db.prepare('SELECT result_id, payload_sha256 FROM result WHERE agent_id = ?').all(agentId) as Array<{ result_id: string, payload_sha256: Buffer }>)
    .map((r) => [r.result_id, r.payload_sha256]))
  const { rows } = await pool.query<{ result_id: string, payload_sha256: Buffer }>('SELECT result_id, payload_sha256 FROM result WHERE agent_id = $1', [agentId])
  const pg = new Map(rows.map((r) => [r.result_id, r.payload_sha256]))
  const ids = [...new Set([...lite.keys(), ...pg.keys()])].sort(cmp)
  return ids.filter((id) => { const a = lite.get(id); const b = pg.get(id); return a === undefined || b === undefined || !a.equals(b) }).slice(0, 10)
}

/** A value as both drivers give it, in one text form: BLOB and bytea both come back as Buffers. */
const canonical = (v: unknown): string => v instanceof Uint8Array ? `x${Buffer.from(v).toString('hex')}` : JSON.stringify(v ?? null)

/**
 * Every plain table (fleet, geography, targets, IPv6, audit) read whole on both stores and
 * compared by primary key, column by column: which rows one side lacks and which columns of a
 * shared row differ. A table without a primary key is compared as a multiset of whole rows.
 */
async function compareTables (db: Db, pool: Pool): Promise<TableComparison> {
  const differences: RowDifference[] = []
  let rows = 0
  for (const table of PLAIN_TABLES) {
    const cols = await sharedColumns(db, pool, table)
    const pk = await primaryKey(pool, table)
    const key = pk.length > 0 ? pk : cols
    const index = (list: Row[]): Map<string, Row> => {
      const m = new Map<string, Row>()
      for (const r of list) {
        let k = key.map((c) => canonical(r[c])).join('\u0000')
        // Identical rows of a table without a key: counted apart.
        for (let i = 1; pk.length === 0 && m.has(k); i++) k = `${key.map((c) => canonical(r[c])).join('\u0000')}#${i}`
        m.set(k, r)
      }
      return m
    }
    const lite = index(db.prepare(`SELECT ${cols.join(', ')} FROM ${table}`).all() as Row[])
    const pg = index((await pool.query(`SELECT ${cols.join(', ')} FROM ${table}`)).rows as Row[])
    rows += lite.size
    const keyOf = (r: Row): Record<string, unknown> => Object.fromEntries(key.map((c) => [c, r[c] instanceof Uint8Array ? canonical(r[c]) : r[c]]))
    for (const [k, a] of lite) {
      const b = pg.get(k)
      if (b === undefined) { differences.push({ table, key: keyOf(a), missingOn: 'postgres', columns: cols }); continue }
      const columns = cols.filter((c) => canonical(a[c]) !== canonical(b[c]))
      if (columns.length > 0) differences.push({ table, key: keyOf(a), missingOn: null, columns })
    }
    for (const [k, b] of pg) if (!lite.has(k)) differences.push({ table, key: keyOf(b), missingOn: 'sqlite', columns: cols })
  }
  return { tables: PLAIN_TABLES.length, rows, differences }
}
