import type { Stores } from '../stores.js'
import { PostgresElection } from './election.js'
import { PostgresFleetStore } from './fleet.js'
import { PostgresGeoStore } from './geo.js'
import { PostgresHealthReader } from './health.js'
import { PostgresIpv6Store } from './ipv6.js'
import type { Pool } from './pool.js'
import { PostgresResultStore } from './results.js'
import { PostgresRollupReader } from './rollups.js'
import { PostgresRateLimitStore } from './rate-limits.js'

/** The stores over a pool of a migrated PostgreSQL database; closing them ends the pool. */
export async function postgresStores (pool: Pool): Promise<Stores> {
  const elections: PostgresElection[] = []
  return {
    backend: 'postgres',
    fleet: new PostgresFleetStore(pool),
    results: await PostgresResultStore.open(pool),
    rollups: new PostgresRollupReader(pool),
    geo: new PostgresGeoStore(pool),
    ipv6: new PostgresIpv6Store(pool),
    health: new PostgresHealthReader(pool),
    rateLimits: new PostgresRateLimitStore(pool),
    elect: async (name) => {
      const election = await PostgresElection.stand(pool, name)
      elections.push(election)
      return election
    },
    // The elections first: their connections are out of the pool, which waits for them otherwise.
    close: async () => {
      for (const e of elections) await e.close()
      await pool.end()
    }
  }
}
