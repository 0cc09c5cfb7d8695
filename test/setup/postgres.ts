import type { TestProject } from 'vitest/node'
import { TEMPLATE_DATABASE, databaseUrl, startPostgresCluster } from '../fixtures/postgres-cluster.js'
import { createPool } from '../../collector/storage/postgres/pool.js'
import { migratePostgres } from '../../collector/storage/postgres/migrate.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the run's private PostgreSQL cluster (test/helpers/postgres.ts). */
    postgresUrl: string
    /** The cluster's major version (15 from Debian here; 16, 17 in CI's extra runs). */
    postgresVersion: number
  }
}

/**
 * vitest globalSetup: one private PostgreSQL cluster for the whole run (test/fixtures/
 * postgres-cluster.ts, which the benches also use) with a migrated template database; each test copies the template
 * (CREATE DATABASE … TEMPLATE, a few ms) instead of migrating or running initdb again.
 */
export default async function setup (project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startPostgresCluster()
  try {
    const admin = createPool(cluster.url, { max: 1 })
    try {
      await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`)
    } finally {
      await admin.end()
    }
    const template = createPool(databaseUrl(cluster.url, TEMPLATE_DATABASE), { max: 1 })
    try {
      await migratePostgres(template)
    } finally {
      await template.end()
    }
  } catch (err) {
    await cluster.stop()
    throw err
  }
  project.provide('postgresUrl', cluster.url)
  project.provide('postgresVersion', cluster.version)
  return async () => { await cluster.stop() }
}
