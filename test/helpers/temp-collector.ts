import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { loadCollectorConfig, type CollectorConfig } from '../../collector/config.js'
import { buildCollector } from '../../collector/server.js'

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
