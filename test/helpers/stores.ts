import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStores } from '../../collector/storage/index.js'
import type { Stores } from '../../collector/storage/stores.js'

/**
 * The backends the store contract suite runs on (one suite, every implementation, as
 * docs/storage.md says): `describe.each(backends)('$name', ({ open }) => …)`. `open` gives fresh,
 * empty, migrated stores; their `close` also removes what `open` made.
 */
export interface StoreBackend {
  name: Stores['backend']
  open: () => Promise<Stores>
}

/** SQLite in a fresh temp dir, through openStores as the collector opens it. */
export const sqliteBackend: StoreBackend = {
  name: 'sqlite',
  open: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tocdo-stores-'))
    const stores = await openStores({ file: join(dir, 'collector.sqlite') })
    return { ...stores, close: async () => { try { await stores.close() } finally { rmSync(dir, { recursive: true, force: true }) } } }
  }
}

export const backends: readonly StoreBackend[] = [sqliteBackend]
