import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Admission } from '../speedtest/admission.js'
import { agentState } from '../fleet/health.js'

/**
 * Prometheus metrics (prom-client) at GET /metrics, behind the admin token (Prometheus sends it
 * with `authorization: { credentials: … }`), on the collector's own port: ingest rate and acks
 * by status, write-queue depth, group commit and WAL fsync latency, failed groups, agents by
 * health state, report latency, speed-test sessions, and the process's own figures. A registry
 * of its own per app, so tests can build several collectors in one process.
 */
export default fp<{ admission: Admission }>(async (fastify, { admission }) => {
  const register = new Registry()
  collectDefaultMetrics({ register, prefix: 'tocdo_' })
  const { committer } = fastify.fleet

  const requests = new Counter({ name: 'tocdo_ingest_requests_total', help: 'Sync and result-upload requests answered after their group commit', registers: [register] })
  const items = new Counter({ name: 'tocdo_ingest_items_total', help: 'Result items by ack status (accepted, duplicate, conflict, rejected)', labelNames: ['status'], registers: [register] })
  const commitSeconds = new Histogram({ name: 'tocdo_ingest_commit_seconds', help: 'Time to commit one group (transaction, without the WAL fsync)', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [register] })
  const fsyncSeconds = new Histogram({ name: 'tocdo_ingest_fsync_seconds', help: 'Time of the WAL fsync after a group commit', buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers: [register] })
  const groupRows = new Histogram({ name: 'tocdo_ingest_group_rows', help: 'Result rows per committed group', buckets: [1, 10, 50, 100, 500, 1000, 2000, 5000], registers: [register] })
  new Gauge({ name: 'tocdo_ingest_queue_rows', help: 'Rows waiting for the next group commit', registers: [register], collect () { this.set(committer.queuedRows) } }) // eslint-disable-line no-new
  new Gauge({ name: 'tocdo_ingest_group_retries_total', help: 'Groups whose commit failed and were committed again request by request', registers: [register], collect () { this.set(committer.stats.groupRetries) } }) // eslint-disable-line no-new
  new Gauge({ name: 'tocdo_ingest_failed_requests_total', help: 'Requests whose own write failed (500)', registers: [register], collect () { this.set(committer.stats.failedJobs) } }) // eslint-disable-line no-new
  new Gauge({ name: 'tocdo_ingest_busy_refusals_total', help: 'Requests refused with 503 because the write queue was past its bound', registers: [register], collect () { this.set(committer.stats.busyRefusals) } }) // eslint-disable-line no-new
  new Gauge({ // eslint-disable-line no-new
    name: 'tocdo_agents',
    help: 'Active agents by health state from their last sync (online, stale, offline, never)',
    labelNames: ['state'],
    registers: [register],
    async collect () {
      const counts = { online: 0, stale: 0, offline: 0, never: 0 }
      const now = Date.now()
      for (const lastSyncAt of await fastify.stores.health.activeAgentLastSyncs()) counts[agentState(lastSyncAt, now)]++
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n)
    }
  })
  new Gauge({ name: 'tocdo_speedtest_sessions', help: 'Speed tests admitted and running now', registers: [register], collect () { this.set(admission.active) } }) // eslint-disable-line no-new
  const reportSeconds = new Histogram({ name: 'tocdo_report_seconds', help: 'Time to answer a report or export request', labelNames: ['route'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10], registers: [register] })

  committer.onCommit = (c) => { if (c.jobs > 0) { commitSeconds.observe(c.commitMs / 1000); groupRows.observe(c.rows) } }
  committer.onFsync = (ms) => { fsyncSeconds.observe(ms / 1000) }
  committer.onAcked = (o) => {
    requests.inc()
    items.inc({ status: 'accepted' }, o.accepted)
    items.inc({ status: 'duplicate' }, o.duplicate)
    items.inc({ status: 'conflict' }, o.conflict)
    items.inc({ status: 'rejected' }, o.rejected)
  }
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url
    if (route !== undefined && (route.startsWith('/api/v1/reports/') || route.startsWith('/api/v1/exports/'))) reportSeconds.observe({ route }, reply.elapsedTime / 1000)
  })

  fastify.get('/metrics', { onRequest: fastify.requireAdmin, schema: { hide: true } }, async (_request, reply) => {
    return await reply.type(register.contentType).send(await register.metrics())
  })
}, { name: 'metrics', dependencies: ['fleet'] })
