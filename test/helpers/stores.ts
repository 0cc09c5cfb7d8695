import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStores } from '../../collector/storage/index.js'
import { createPool } from '../../collector/storage/postgres/pool.js'
import type { Stores } from '../../collector/storage/stores.js'
import { createTestDatabase } from './postgres.js'

type Row = Record<string, unknown>

/**
 * A backend's database as a test sees it, through a connection of the test's own (never the
 * store's): `rows(table)` gives every row of a table, sorted, as plain objects; `exec` runs SQL
 * both dialects read alike, to arrange what no store method or API does (a drifted row, an old
 * heartbeat).
 */
export interface DatabaseView {
  rows: (table: string) => Promise<Row[]>
  exec: (sql: string) => Promise<void>
}

/** Stores opened for a test, with a view of their database. */
export type TestStores = Stores & DatabaseView

/** A database for a collector the test starts (in-process or as a process), with a view of it. */
export interface CollectorDatabase extends DatabaseView {
  /** Config overrides pointing a collector at it ({} for SQLite: the collector's data dir holds it). */
  overrides: { databaseUrl?: string }
  /** The same for a collector process's environment. */
  env: Record<string, string>
  close: () => Promise<void>
}

/**
 * The backends the store contract suite runs on (one suite, every implementation, as
 * docs/storage.md says): `describe.each(backends)('$name', ({ open }) => …)`. `open` gives
 * fresh, empty, migrated stores; `collectorDatabase` a fresh database for a collector whose
 * data dir is `dataDir`.
 */
export interface StoreBackend {
  name: Stores['backend']
  open: () => Promise<TestStores>
  collectorDatabase: (dataDir: string) => Promise<CollectorDatabase>
}

const sorted = (rows: Row[]): Row[] =>
  rows.map((r) => [JSON.stringify(r, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v), r] as const)
    .sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0).map(([, r]) => r)

function sqliteView (file: string): DatabaseView {
  const withDb = <T>(readonly: boolean, fn: (db: Database.Database) => T): T => {
    const db = new Database(file, { readonly, fileMustExist: true })
    try {
      return fn(db)
    } finally {
      db.close()
    }
  }
  return {
    rows: async (table) => withDb(true, (db) => sorted(db.prepare(`SELECT * FROM ${table}`).all() as Row[])),
    exec: async (sql) => { withDb(false, (db) => db.exec(sql)) }
  }
}

function postgresView (url: string): DatabaseView & { end: () => Promise<void> } {
  const own = createPool(url, { max: 1 })
  return {
    rows: async (table) => sorted((await own.query(`SELECT * FROM ${table}`)).rows as Row[]),
    exec: async (sql) => { await own.query(sql) },
    end: async () => { await own.end() }
  }
}

/** SQLite in a fresh temp dir, through openStores as the collector opens it. */
export const sqliteBackend: StoreBackend = {
  name: 'sqlite',
  open: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tocdo-stores-'))
    const file = join(dir, 'collector.sqlite')
    const stores = await openStores({ file })
    return { ...stores, ...sqliteView(file), close: async () => { try { await stores.close() } finally { rmSync(dir, { recursive: true, force: true }) } } }
  },
  collectorDatabase: async (dataDir) => ({ ...sqliteView(join(dataDir, 'collector.sqlite')), overrides: {}, env: {}, close: async () => {} })
}

/**
 * PostgreSQL: a new database copied from the run's migrated template (test/helpers/postgres.ts)
 * on the run's private cluster, through openStores as the collector opens it (which finds
 * every migration applied). The database stays until the run's cluster is removed
 * (test/helpers/postgres.ts says why).
 */
export const postgresBackend: StoreBackend = {
  name: 'postgres',
  open: async () => {
    const db = await createTestDatabase()
    const stores = await openStores({ databaseUrl: db.url, file: '' })
    const view = postgresView(db.url)
    return { ...stores, rows: view.rows, exec: view.exec, close: async () => { try { await stores.close() } finally { await view.end() } } }
  },
  collectorDatabase: async () => {
    const db = await createTestDatabase()
    const view = postgresView(db.url)
    return { rows: view.rows, exec: view.exec, overrides: { databaseUrl: db.url }, env: { TOCDO_DATABASE_URL: db.url }, close: view.end }
  }
}

/**
 * Both, always, except in CI's extra runs of the contract suite on other PostgreSQL majors
 * (.ci/run sets TOCDO_TEST_BACKENDS=postgres there: SQLite's half already ran in the main run).
 */
export const backends: readonly StoreBackend[] = process.env.TOCDO_TEST_BACKENDS === 'postgres' ? [postgresBackend] : [sqliteBackend, postgresBackend]
