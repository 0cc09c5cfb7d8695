import pg from 'pg'
import { TocdoError } from '../../../shared/errors.js'
import { redactDatabaseUrl } from '../database-url.js'

export type Pool = pg.Pool
export type PoolClient = pg.PoolClient

/** PostgreSQL's type oid of int8 (bigint), the type of our epoch-ms columns, ids and count(*). */
const INT8_OID = 20

/**
 * int8 as a JS number. `pg` returns it as a string by default because it may exceed 2^53; our
 * int8 values are epoch ms, ids and counts, all far below, so a value beyond
 * Number.MAX_SAFE_INTEGER is corruption rather than data and fails the query instead of being
 * rounded (pg turns a throwing parser into the query's error).
 */
export function parseInt8 (text: string): number {
  const n = Number(text)
  if (!Number.isSafeInteger(n)) {
    throw new TocdoError('TOCDO_ERR_INTERNAL', `PostgreSQL returned the int8 value ${text}, beyond Number.MAX_SAFE_INTEGER: it cannot be read as a number without rounding`)
  }
  return n
}

/** The type parsers of every pool this module makes: set per pool, never on pg's global defaults. */
function typeParsers (): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides()
  types.setTypeParser(INT8_OID, 'text', parseInt8)
  return types
}

export interface PoolOptions {
  /** Connections at most (pg's default is 10). */
  max?: number
  /** How long a new connection may take before it fails, ms. */
  connectionTimeoutMillis?: number
  /** Passed to the server as application_name, so pg_stat_activity tells collectors from other clients. */
  applicationName?: string
}

/**
 * A pool over the PostgreSQL database at `url` (postgres://user:password@host:port/db, or a
 * Unix socket directory as `?host=/dir`). Connects lazily; `connectPool` checks that the server
 * answers.
 */
export function createPool (url: string, { max = 10, connectionTimeoutMillis = 10_000, applicationName = 'tocdo-collector' }: PoolOptions = {}): Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis,
    application_name: applicationName,
    types: typeParsers(),
    // Idle connections do not keep a process alive that has nothing else to do (a CLI command, a test worker).
    allowExitOnIdle: true,
    // A collector killed mid-transaction must not hold row locks for ever (docs/storage.md).
    idle_in_transaction_session_timeout: 60_000
  })
  // An idle pooled connection the server drops (a restart, a failover) emits 'error' on the
  // pool; without a listener that would end the process. The next query takes a new connection.
  pool.on('error', () => {})
  return pool
}

/**
 * Creates the pool and checks that the server answers; a server that cannot be reached (or
 * refuses the login) fails with TOCDO_ERR_DATABASE_UNREACHABLE naming TOCDO_DATABASE_URL
 * (password hidden), and the pool is closed.
 */
export async function connectPool (url: string, options: PoolOptions = {}): Promise<Pool> {
  const pool = createPool(url, options)
  try {
    await pool.query('SELECT 1')
  } catch (err) {
    await pool.end().catch(() => {})
    throw databaseUnreachable(url, err)
  }
  return pool
}

export function databaseUnreachable (url: string, cause: unknown): TocdoError {
  const reason = (cause as Error)?.message ?? String(cause)
  return new TocdoError('TOCDO_ERR_DATABASE_UNREACHABLE',
    `PostgreSQL at ${redactDatabaseUrl(url)} (TOCDO_DATABASE_URL) could not be reached: ${reason}. Check that the server runs and that the URL's host, port, database, user and password are right, or unset TOCDO_DATABASE_URL to use the embedded SQLite store`,
    { cause, details: { url: redactDatabaseUrl(url) } })
}

/**
 * Runs `fn` in one transaction on one pooled connection: BEGIN, fn, COMMIT (ROLLBACK when fn
 * throws). `snapshot` makes it a read-only REPEATABLE READ transaction, so several reads see
 * one state of the database, as one SQLite read transaction does.
 */
export async function inTransaction<T> (pool: Pool, fn: (client: PoolClient) => Promise<T>, { snapshot = false }: { snapshot?: boolean } = {}): Promise<T> {
  const client = await pool.connect()
  let broken: Error | undefined
  try {
    await client.query(snapshot ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN')
    try {
      const out = await fn(client)
      await client.query('COMMIT')
      return out
    } catch (err) {
      await client.query('ROLLBACK').catch((e: unknown) => { broken = e as Error })
      throw err
    }
  } finally {
    // A connection that could not roll back is in an unknown state: destroy it rather than pool it.
    client.release(broken)
  }
}
