import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { loadCollectorConfig, type CollectorConfig } from '../../collector/config.js'
import { buildCollector } from '../../collector/server.js'
import { createPlacedAgency } from '../../collector/fleet/admin.js'
import type { NewAgencyRequest } from '../../shared/schemas/fleet.js'

export interface TempCollector {
  app: FastifyInstance
  url: string
  dataDir: string
  close: () => Promise<void>
}

/** A real collector on 127.0.0.1, port 0, with its SQLite database in a fresh temp dir. */
export async function startTempCollector (overrides: Partial<CollectorConfig> = {}): Promise<TempCollector> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tocdo-collector-'))
  const config = loadCollectorConfig({ overrides: { host: '127.0.0.1', port: 0, dataDir, logLevel: 'warn', ...overrides } })
  const app = await buildCollector(config, { logger: false })
  const address = await app.listen({ host: config.host, port: 0 })
  return {
    app,
    url: address,
    dataDir,
    close: async () => {
      await app.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

/** An agency placed through the same code as the admin API, with one agent and its token. */
export function addAgencyWithAgent (c: TempCollector, req: NewAgencyRequest): { agencyId: string, agentId: string, token: string } {
  const { agency } = createPlacedAgency(c.app.db, c.app.agencies, req)
  const { agent, token } = c.app.agencies.createAgent(agency.id, `${req.name} agent`)
  return { agencyId: agency.id, agentId: agent.id, token }
}
