import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { CollectorConfig } from './config.js'
import { TOCDO_VERSION } from '../shared/version.js'
import dbPlugin, { databaseFile } from './plugins/db.js'
import authPlugin from './plugins/auth.js'
import auditPlugin from './plugins/audit.js'
import fleetPlugin from './fleet/plugin.js'
import { enrollRoutes } from './routes/enroll.js'
import { syncRoutes } from './routes/sync.js'
import { adminRoutes } from './routes/admin.js'
import { errorHandler } from './plugins/error-handler.js'
import bodyShapePlugin from './plugins/body-shape.js'
import securityHeadersPlugin from './plugins/security-headers.js'
import notFoundPlugin from './plugins/not-found.js'
import metricsPlugin from './plugins/metrics.js'
import retentionPlugin from './plugins/retention.js'
import { healthRoutes } from './routes/health.js'
import { resultRoutes } from './routes/results.js'
import { reportRoutes } from './routes/reports.js'
import { geoRoutes } from './routes/geo.js'
import { exportRoutes } from './routes/exports.js'
import { officialReportRoutes } from './routes/official-report.js'
import openapiPlugin from './plugins/openapi.js'
import monthPackJob from './reports/month-pack-job.js'
import { ipv6Routes } from './routes/ipv6.js'
import { ipv6ProberJob } from './ipv6/prober-job.js'
import { dashboardPlugin } from './dashboard/plugin.js'
import { speedtestRoutes } from './speedtest/routes.js'
import { createAdmission } from './speedtest/admission.js'
import { getPayload } from './speedtest/payload.js'
import { ndt7Plugin } from './speedtest/ndt7.js'
import { pingFastPath } from './speedtest/ping-fast-path.js'
import { downloadsPlugin } from './downloads/plugin.js'
import { loadSeeds } from './geo/load-geography.js'
import { seedsDir } from './paths.js'

/**
 * The whole collector on one screen. In speed-test-only mode there is no database: the
 * process is a standalone test server.
 */
async function collectorApp (fastify: FastifyInstance, opts: { config: Readonly<CollectorConfig>, dbFile?: string }): Promise<void> {
  const { config } = opts
  fastify.setErrorHandler(errorHandler)
  await fastify.register(bodyShapePlugin)
  await fastify.register(securityHeadersPlugin)
  await fastify.register(notFoundPlugin)
  // Before any route, so the OpenAPI document at /docs sees them all.
  await fastify.register(openapiPlugin, { version: TOCDO_VERSION })

  const admission = createAdmission({ maxConcurrent: config.maxConcurrentTests })
  fastify.addHook('onClose', async () => { admission.close() })
  await fastify.register(pingFastPath)
  await fastify.register(speedtestRoutes, { payload: getPayload(), admission, busyRetryAfterS: config.busyRetryAfterS, version: TOCDO_VERSION })
  // Standard ndt7 clients (M-Lab's) send no tocdo test id, so each connection is a test of its own.
  await fastify.register(ndt7Plugin, {
    payload: getPayload(),
    admit: () => admission.admit(undefined),
    retryAfterSeconds: config.busyRetryAfterS,
    onTestComplete: (s) => { fastify.log.info({ ndt7: s }, 'ndt7 test complete') }
  })

  if (config.speedtestOnly) {
    await fastify.register(healthRoutes, { mode: 'speedtest-only', version: TOCDO_VERSION })
    return
  }

  await fastify.register(dbPlugin, { file: opts.dbFile ?? databaseFile(config.dataDir), databaseUrl: config.databaseUrl })
  // Start-up job: the geography and targets seeds, loaded (or found unchanged) before anything reads them.
  fastify.log.debug(await loadSeeds(fastify.stores.geo, seedsDir()), 'seeds loaded')
  // Work that must run once in the fleet (the start-up rebuilds, the month packs, the IPv6
  // prober) runs on the elected collector only: with PostgreSQL several collectors share the
  // database, and one holds the election's lock (docs/operations.md); with SQLite this one leads.
  const fleetJobs = await fastify.stores.elect('fleet-jobs')
  let atStart: Promise<void> | undefined
  let started = false
  fleetJobs.onLead(() => {
    fastify.log.info({ election: 'fleet-jobs' }, 'this collector leads the once-per-fleet jobs')
    const run = startupRebuilds(fastify)
    // At start, a failed rebuild fails the start; on a takeover it is logged and the collector serves on.
    if (started) run.catch((err: unknown) => { fastify.log.error({ err }, 'start-up rebuilds failed after taking over') })
    else atStart = run
  })
  started = true
  if (atStart !== undefined) await atStart
  else fastify.log.info({ election: 'fleet-jobs' }, 'another collector leads the once-per-fleet jobs; this one takes over when it goes')
  await fastify.register(authPlugin)
  await fastify.register(auditPlugin)
  await fastify.register(downloadsPlugin, { dir: config.packagesDir, publicUrl: config.publicUrl })
  await fastify.register(fleetPlugin, { config })
  await fastify.register(enrollRoutes)
  await fastify.register(syncRoutes)
  await fastify.register(adminRoutes, { publicUrl: config.publicUrl })
  await fastify.register(metricsPlugin, { admission })
  await fastify.register(healthRoutes, { mode: 'collector', version: TOCDO_VERSION })
  await fastify.register(resultRoutes)
  await fastify.register(monthPackJob, { everyMs: 10 * 60_000, leadership: fleetJobs })
  await fastify.register(retentionPlugin, { retentionDays: config.retentionDays, batchRows: config.retentionBatchRows })
  const reportRules = { minRepresentativeSamples: config.reportMinRepresentativeSamples, minAgents: config.reportMinAgents, minBusyHourSamplesPerAgent: config.reportMinBusyHourSamplesPerAgent }
  await fastify.register(reportRoutes, { rules: reportRules, sample: config.sampleData })
  await fastify.register(geoRoutes)
  await fastify.register(exportRoutes, { rules: reportRules, sample: config.sampleData })
  await fastify.register(officialReportRoutes, { rules: reportRules, departmentName: config.departmentName, sample: config.sampleData })
  await fastify.register(ipv6Routes, { config })
  // Background job: the IPv6 service prober, every ipv6ProbeIntervalMin minutes once the server is ready.
  await fastify.register(ipv6ProberJob, { config, leadership: fleetJobs })
  await fastify.register(dashboardPlugin, { departmentName: config.departmentName, version: TOCDO_VERSION, sample: config.sampleData })
}

/**
 * Start-up jobs of the elected collector: the report rollups, rebuilt from the result table
 * when built by an older definition (from then on the result store keeps them inside every
 * ingest transaction), and the IPv6 evidence the IPv6 report reads, rebuilt when missing or older.
 */
async function startupRebuilds (fastify: FastifyInstance): Promise<void> {
  const rollupsStarted = Date.now()
  const { rebuiltRows } = await fastify.stores.results.ensureRollups()
  if (rebuiltRows !== null) fastify.log.info({ rows: rebuiltRows, ms: Date.now() - rollupsStarted }, 'report rollups rebuilt from the result table')
  const rebuilt = await fastify.stores.results.ensureIpv6Evidence()
  if (rebuilt !== null) fastify.log.info(rebuilt, 'IPv6 evidence rebuilt from the result table')
  fastify.log.info({ rollupsRebuilt: rebuiltRows !== null, ipv6EvidenceRebuilt: rebuilt !== null }, 'start-up rebuilds checked')
}

// Wrapped with fastify-plugin so the stores it decorates are visible to the process entry
// (the demo set-up and the CLI) and to tests holding the root instance.
export default fp(collectorApp, { name: 'tocdo-collector' })
