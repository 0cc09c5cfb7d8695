import fp from 'fastify-plugin'
import { join } from 'node:path'
import { Ingestor } from '../ingest/ingest.js'
import { openStores } from '../storage/index.js'
import type { Stores } from '../storage/stores.js'
import { CachedRollupReader } from '../reports/month-cache.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The storage boundary (storage/stores.ts): the only way the rest of the collector reaches the database. */
    stores: Stores
    ingestor: Ingestor
  }
}

/**
 * Owns the database for the app's lifetime: opens it (PostgreSQL when `databaseUrl` is set,
 * otherwise SQLite in `file`; migrating it), decorates the stores, and closes them when the
 * app closes.
 */
export default fp<{ file: string, databaseUrl?: string }>(async (fastify, opts) => {
  const opened = await openStores({ file: opts.file, databaseUrl: opts.databaseUrl })
  fastify.log.info({ backend: opened.backend }, 'stores opened')
  // Reports read closed months through the in-memory month cache, whatever the backend.
  const stores: Stores = { ...opened, rollups: new CachedRollupReader(opened.rollups) }
  fastify.decorate('stores', stores)
  fastify.decorate('ingestor', new Ingestor())
  fastify.addHook('onClose', async () => { await stores.close() })
}, { name: 'db' })

export function databaseFile (dataDir: string): string {
  return dataDir === ':memory:' ? ':memory:' : join(dataDir, 'collector.sqlite')
}
