import type { Db } from '../db.js'
import type { Stores } from '../stores.js'
import { SqliteFleetStore } from './fleet.js'
import { SqliteResultStore } from './results.js'
import { SqliteRollupReader } from './rollups.js'
import { SqliteGeoStore } from './geo.js'
import { SqliteIpv6Store } from './ipv6.js'
import { SqliteHealthReader } from './health.js'
import { MemoryRateLimitStore } from './rate-limits.js'

/** The stores over one open SQLite database (migrated by `openDatabase`). */
export function sqliteStores (db: Db): Stores {
  const results = new SqliteResultStore(db)
  return {
    backend: 'sqlite',
    fleet: new SqliteFleetStore(db),
    results,
    rollups: new SqliteRollupReader(db),
    geo: new SqliteGeoStore(db),
    ipv6: new SqliteIpv6Store(db),
    health: new SqliteHealthReader(db),
    rateLimits: new MemoryRateLimitStore(),
    // One collector per SQLite file: it leads every election.
    elect: async () => ({ leads: true, onLead: (fn) => { fn() } }),
    close: async () => { await results.close(); db.close() }
  }
}
