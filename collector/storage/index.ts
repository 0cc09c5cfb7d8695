import { openDatabase } from './db.js'
import { sqliteStores } from './sqlite/index.js'
import type { Stores } from './stores.js'
import { connectPool } from './postgres/pool.js'
import { migratePostgres } from './postgres/migrate.js'
import { postgresStores } from './postgres/index.js'

/**
 * What the rest of the collector takes from `storage/` besides the interfaces in `stores.ts`:
 * opening the stores, and the embedded store's own backup and verify. Nothing outside
 * `storage/` imports a driver or a backend's module (eslint.config.js).
 */

/**
 * Opens the stores: on PostgreSQL when `databaseUrl` is set (TOCDO_DATABASE_URL; connecting,
 * then applying the pending migrations under their advisory lock), otherwise the embedded
 * SQLite store in `file` (migrating it) over one connection. An unreachable server fails with
 * TOCDO_ERR_DATABASE_UNREACHABLE.
 */
export async function openStores ({ databaseUrl = '', file }: { databaseUrl?: string, file: string }): Promise<Stores> {
  if (databaseUrl === '') return sqliteStores(openDatabase(file))
  const pool = await connectPool(databaseUrl)
  try {
    await migratePostgres(pool)
    return await postgresStores(pool)
  } catch (err) {
    await pool.end()
    throw err
  }
}

export { backupDatabase, verifyDatabase, type VerifyReport } from './sqlite/backup.js'
export { openStoreMigration, type StoreMigration, type CopySummary, type ResultComparison, type TableComparison, type RowDifference, type ReportSide } from './copy-to-postgres.js'
