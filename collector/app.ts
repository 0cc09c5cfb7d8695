import type { FastifyInstance } from 'fastify'
import type { CollectorConfig } from './config.js'
import { TOCDO_VERSION } from '../shared/version.js'
import dbPlugin, { databaseFile } from './plugins/db.js'
import authPlugin from './plugins/auth.js'
import { errorHandler } from './plugins/error-handler.js'
import { healthRoutes } from './routes/health.js'
import { resultRoutes } from './routes/results.js'
import { reportRoutes } from './routes/reports.js'
import { speedtestRoutes } from './speedtest/routes.js'
import { createAdmission } from './speedtest/admission.js'
import { getPayload } from './speedtest/payload.js'

/**
 * The whole collector on one screen. In speed-test-only mode there is no database: the
 * process is a standalone test server.
 */
export default async function collectorApp (fastify: FastifyInstance, opts: { config: Readonly<CollectorConfig>, dbFile?: string }): Promise<void> {
  const { config } = opts
  fastify.setErrorHandler(errorHandler)

  const admission = createAdmission({ maxConcurrent: config.maxConcurrentTests })
  fastify.addHook('onClose', async () => { admission.close() })
  await fastify.register(speedtestRoutes, { payload: getPayload(), admission, busyRetryAfterS: config.busyRetryAfterS, version: TOCDO_VERSION })

  if (config.speedtestOnly) {
    await fastify.register(healthRoutes, { mode: 'speedtest-only', version: TOCDO_VERSION })
    return
  }

  await fastify.register(dbPlugin, { file: opts.dbFile ?? databaseFile(config.dataDir) })
  await fastify.register(authPlugin)
  await fastify.register(healthRoutes, { mode: 'collector', version: TOCDO_VERSION })
  await fastify.register(resultRoutes)
  await fastify.register(reportRoutes)
}
