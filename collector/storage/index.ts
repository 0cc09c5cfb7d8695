import { openDatabase } from './db.js'
import { sqliteStores } from './sqlite/index.js'
import type { Stores } from './stores.js'

/**
 * What the rest of the collector takes from `storage/` besides the interfaces in `stores.ts`:
 * opening the stores, and the embedded store's own backup and verify. Nothing outside
 * `storage/` imports a driver or a backend's module (eslint.config.js).
 */

/** Opens the embedded SQLite store in `file` (migrating it) and its stores over one connection. */
export async function openStores ({ file }: { file: string }): Promise<Stores> {
  return sqliteStores(openDatabase(file))
}

export { backupDatabase, verifyDatabase, type VerifyReport } from './sqlite/backup.js'
