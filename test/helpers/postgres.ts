import { randomBytes } from 'node:crypto'
import { inject } from 'vitest'
import { createPool, type Pool } from '../../collector/storage/postgres/pool.js'
import { TEMPLATE_DATABASE, databaseUrl } from '../fixtures/postgres-cluster.js'

/**
 * A fresh database of the run's cluster. Tests leave it in place: the cluster is removed whole
 * when the run ends, and DROP DATABASE forces a checkpoint on PostgreSQL 15 (0.1–1.5 s each on
 * a busy machine). `drop` is there for a test that needs the name gone.
 */
export interface TestDatabase {
  name: string
  url: string
  drop: () => Promise<void>
}

let admin: Pool | undefined

function adminPool (): Pool {
  admin ??= createPool(inject('postgresUrl'), { max: 2 })
  return admin
}

/**
 * A new database on the run's private cluster: a copy of the migrated template (`migrated`,
 * the default) or an empty one (to test the migrations themselves).
 */
export async function createTestDatabase ({ migrated = true }: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`
  await adminPool().query(`CREATE DATABASE ${name}${migrated ? ` TEMPLATE ${TEMPLATE_DATABASE}` : ''}`)
  return {
    name,
    url: databaseUrl(inject('postgresUrl'), name),
    drop: async () => { await adminPool().query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }
  }
}

/** A fresh database and a pool over it; `close` ends the pool. */
export async function createTestPool (options: { migrated?: boolean } = {}): Promise<{ db: TestDatabase, pool: Pool, close: () => Promise<void> }> {
  const db = await createTestDatabase(options)
  const pool = createPool(db.url, { max: 4 })
  return { db, pool, close: async () => { await pool.end() } }
}
