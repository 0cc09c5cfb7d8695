import type { Pool } from './pool.js'
import { migrations as allMigrations } from './migrations/index.js'

export interface Migration { name: string, sql: string }

/**
 * The advisory lock key the migration runner holds: any constant the collector's other locks
 * do not use. Two collectors starting together queue on it, so the second finds the first's
 * migrations applied instead of racing it (CREATE TABLE IF NOT EXISTS is not safe under
 * concurrency in PostgreSQL).
 */
export const MIGRATION_LOCK_KEY = 7_312_001

/**
 * Applies the pending migrations in order, each in its own transaction with its row in
 * schema_migrations, so a migration is either applied and recorded or absent. Runs on one
 * connection holding a session advisory lock for the whole run. Returns the names applied.
 * `now` stamps applied_at (epoch ms).
 */
export async function migratePostgres (pool: Pool, { migrations = allMigrations, now = Date.now }: {
  migrations?: readonly Migration[]
  now?: () => number
} = {}): Promise<string[]> {
  const client = await pool.connect()
  let broken: unknown
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY])
    try {
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)')
      const done = new Set((await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name))
      const applied: string[] = []
      for (const m of migrations) {
        if (done.has(m.name)) continue
        await client.query('BEGIN')
        try {
          await client.query(m.sql)
          await client.query('INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)', [m.name, now()])
          await client.query('COMMIT')
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {})
          throw new Error(`PostgreSQL migration ${m.name} failed and was rolled back: ${(err as Error).message}`, { cause: err })
        }
        applied.push(m.name)
      }
      return applied
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch((err: unknown) => { broken = err })
    }
  } finally {
    // A connection whose unlock failed may still hold the lock: destroy it rather than pool it.
    client.release(broken === undefined ? undefined : (broken as Error))
  }
}
