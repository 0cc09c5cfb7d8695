import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import Database from 'better-sqlite3'
import { loadCollectorConfig, type CollectorConfig } from '../../collector/config.js'
import { buildCollector } from '../../collector/server.js'
import { createPlacedAgency } from '../../collector/fleet/admin.js'
import { hashToken, newToken } from '../../collector/fleet/tokens.js'
import type { NewAgencyRequest } from '../../shared/schemas/fleet.js'
import { sqliteBackend, type CollectorDatabase, type StoreBackend } from './stores.js'

export interface TempCollector {
  app: FastifyInstance
  url: string
  dataDir: string
  /** Its database, seen through a connection of the test's own. */
  db: CollectorDatabase
  close: () => Promise<void>
}

/**
 * A real collector on 127.0.0.1, port 0, with its data dir fresh in a temp dir and its store on
 * `backend` (test/helpers/stores.ts; SQLite in the data dir by default).
 */
export async function startTempCollector (overrides: Partial<CollectorConfig> = {}, { backend = sqliteBackend }: { backend?: StoreBackend } = {}): Promise<TempCollector> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tocdo-collector-'))
  const db = await backend.collectorDatabase(dataDir)
  const config = loadCollectorConfig({ overrides: { host: '127.0.0.1', port: 0, dataDir, logLevel: 'warn', ...db.overrides, ...overrides } })
  const app = await buildCollector(config, { logger: false })
  const address = await app.listen({ host: config.host, port: 0 })
  return {
    app,
    url: address,
    dataDir,
    db,
    close: async () => {
      await app.close()
      await db.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

/** An agency placed through the same code as the admin API, with one agent and its token. */
export async function addAgencyWithAgent (c: TempCollector, req: NewAgencyRequest): Promise<{ agencyId: string, agentId: string, token: string }> {
  const fleet = c.app.stores.fleet
  const agency = await createPlacedAgency(c.app.stores, req)
  const token = newToken()
  const agent = await fleet.createAgent(agency.id, `${req.name} agent`, hashToken(token), Date.now())
  return { agencyId: agency.id, agentId: agent.id, token }
}

/**
 * The collector's SQLite file on a connection of the test's own, to check stored rows (read
 * only by default) or to arrange what no API can (such as a heartbeat hours old).
 */
export function openCollectorFile (c: TempCollector, { readonly = true }: { readonly?: boolean } = {}): Database.Database {
  return new Database(join(c.dataDir, 'collector.sqlite'), { readonly, fileMustExist: true })
}
