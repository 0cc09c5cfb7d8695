import { createRequire } from 'node:module'
import { TocdoError } from '../../shared/errors.js'

/**
 * The agent's one door to SQLite. Node's built-in `node:sqlite` where the running Node has it
 * (22.13+ unflagged), so the packaged agent carries no native addon (docs/agent.md, "Building
 * the packages"); better-sqlite3 otherwise (Node 20, or 22 before 22.13), the addon the
 * collector uses anyway. Both run the same SQL; the differences (better-sqlite3's `pragma()`
 * and `transaction()`, node:sqlite's lack of them) are absorbed here and nowhere else.
 *
 * Node 22 prints "ExperimentalWarning: SQLite is an experimental feature" once when the agent
 * first opens its database; it is left visible on purpose (it is true on that line). Node 24
 * and 26, which the packages bundle, print nothing.
 */
export type SqliteDriverName = 'node:sqlite' | 'better-sqlite3'

export type SqlValue = string | number | bigint | null | Uint8Array
export interface RunResult { changes: number, lastInsertRowid: number | bigint }

export interface SqlStatement {
  run: (...params: SqlValue[]) => RunResult
  get: (...params: SqlValue[]) => unknown
  all: (...params: SqlValue[]) => unknown[]
  iterate: (...params: SqlValue[]) => IterableIterator<unknown>
}

export interface SqlDatabase {
  readonly driver: SqliteDriverName
  readonly open: boolean
  exec: (sql: string) => void
  prepare: (sql: string) => SqlStatement
  /** `PRAGMA <text>`; returns the first column of the first row (undefined when it returns none). */
  pragma: (text: string) => unknown
  /**
   * Runs `fn` in one write transaction (BEGIN IMMEDIATE … COMMIT; ROLLBACK when it throws). A
   * nested call becomes a savepoint, so an inner failure undoes only the inner part.
   */
  transaction: <T>(fn: () => T) => T
  close: () => void
}

/** The part of node:sqlite's DatabaseSync we use (typed here: the pinned @types/node predates it). */
interface NodeSqliteDatabase {
  exec: (sql: string) => void
  prepare: (sql: string) => SqlStatement
  close: () => void
}
interface NodeSqliteModule { DatabaseSync: new (file: string) => NodeSqliteDatabase }

interface BetterSqliteStatement extends SqlStatement { pluck: (on?: boolean) => BetterSqliteStatement }
interface BetterSqliteDatabase {
  readonly open: boolean
  exec: (sql: string) => unknown
  prepare: (sql: string) => BetterSqliteStatement
  pragma: (text: string, opts: { simple: true }) => unknown
  close: () => unknown
}
type BetterSqliteConstructor = new (file: string) => BetterSqliteDatabase

const require = createRequire(import.meta.url)

function loadNodeSqlite (): NodeSqliteModule | null {
  try {
    return require('node:sqlite') as NodeSqliteModule
  } catch (err) {
    // Node 20, or 22 before 22.13 without --experimental-sqlite.
    if ((err as NodeJS.ErrnoException).code === 'ERR_UNKNOWN_BUILTIN_MODULE') return null
    throw err
  }
}

function loadBetterSqlite (): BetterSqliteConstructor | null {
  try {
    return require('better-sqlite3') as BetterSqliteConstructor
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return null
    throw err
  }
}

/** The drivers this Node can use, preferred first. */
export function availableDrivers (): SqliteDriverName[] {
  const out: SqliteDriverName[] = []
  if (loadNodeSqlite() !== null) out.push('node:sqlite')
  if (loadBetterSqlite() !== null) out.push('better-sqlite3')
  return out
}

function withTransactions (driver: SqliteDriverName, base: Omit<SqlDatabase, 'transaction' | 'driver'>): SqlDatabase {
  let depth = 0
  return {
    driver,
    get open () { return base.open },
    exec: base.exec,
    prepare: base.prepare,
    pragma: base.pragma,
    close: base.close,
    transaction<T> (fn: () => T): T {
      const savepoint = `tx${depth}`
      base.exec(depth === 0 ? 'BEGIN IMMEDIATE' : `SAVEPOINT ${savepoint}`)
      depth++
      try {
        const out = fn()
        depth--
        base.exec(depth === 0 ? 'COMMIT' : `RELEASE ${savepoint}`)
        return out
      } catch (err) {
        depth--
        base.exec(depth === 0 ? 'ROLLBACK' : `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`)
        throw err
      }
    }
  }
}

function openNodeSqlite (mod: NodeSqliteModule, file: string): SqlDatabase {
  const db = new mod.DatabaseSync(file)
  let open = true
  return withTransactions('node:sqlite', {
    get open () { return open },
    exec: (sql) => { db.exec(sql) },
    prepare: (sql) => db.prepare(sql),
    pragma: (text) => {
      const row = db.prepare(`PRAGMA ${text}`).get() as Record<string, unknown> | undefined
      return row === undefined ? undefined : Object.values(row)[0]
    },
    close: () => { if (open) { open = false; db.close() } }
  })
}

function openBetterSqlite (Database: BetterSqliteConstructor, file: string): SqlDatabase {
  const db = new Database(file)
  return withTransactions('better-sqlite3', {
    get open () { return db.open },
    exec: (sql) => { db.exec(sql) },
    prepare: (sql) => db.prepare(sql),
    pragma: (text) => db.pragma(text, { simple: true }),
    close: () => { if (db.open) db.close() }
  })
}

/**
 * Opens (creating if needed) the SQLite file with the given driver, or the preferred one this
 * Node has. Durability is the caller's: it sets journal_mode and synchronous itself.
 */
export function openDatabase (file: string, { driver }: { driver?: SqliteDriverName } = {}): SqlDatabase {
  if (driver !== 'better-sqlite3') {
    const mod = loadNodeSqlite()
    if (mod !== null) return openNodeSqlite(mod, file)
    if (driver === 'node:sqlite') {
      throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `node:sqlite is not available in Node ${process.versions.node}; it needs Node 22.13 or later`)
    }
  }
  const Database = loadBetterSqlite()
  if (Database === null) {
    throw new TocdoError('TOCDO_ERR_CONFIG_INVALID',
      `Node ${process.versions.node} has no node:sqlite and better-sqlite3 is not installed: run the agent on Node 22.13 or later (the packages bundle one), or install better-sqlite3`)
  }
  return openBetterSqlite(Database, file)
}
