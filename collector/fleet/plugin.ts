import fp from 'fastify-plugin'
import type { CollectorConfig } from '../config.js'
import { Enrolment } from './enrolment.js'
import { RemoteConfigStore, defaultRemoteConfig } from './remote-config.js'
import { AdminToken } from './admin-token.js'
import { GroupCommitter } from '../ingest/group-commit.js'
import { createRateLimiter, type RateLimiter } from './rate-limit.js'
import { FLEET_PATHS } from '../../shared/schemas/fleet.js'
import { PATHS } from '../../shared/protocol.js'

export interface Fleet {
  enrolment: Enrolment
  remoteConfig: RemoteConfigStore
  adminToken: AdminToken
  /** The single writer every result goes through (sync and POST /api/v1/results). */
  committer: GroupCommitter
  syncLimiter: RateLimiter
  enrolLimiter: RateLimiter
  nextSyncS: number
}

declare module 'fastify' {
  interface FastifyInstance {
    fleet: Fleet
  }
}

/**
 * The fleet's services: enrolment, remote configuration, the admin token, the rate limits and
 * the group committer, with the shutdown that drains ingest. Needs the database (db plugin) and
 * agent auth (auth plugin). Its routes (enrolment, sync, admin) are registered in app.ts.
 */
export default fp<{ config: Readonly<CollectorConfig> }>(async (fastify, { config }) => {
  const committer = new GroupCommitter(fastify.stores.results, {
    intervalMs: config.commitIntervalMs,
    maxRows: config.commitMaxRows,
    maxQueuedRows: config.ingestQueueMaxRows,
    maxQueueAgeMs: config.ingestQueueMaxAgeMs
  })
  fastify.decorate('fleet', {
    enrolment: new Enrolment(fastify.stores.fleet),
    remoteConfig: await RemoteConfigStore.open(fastify.stores.fleet, defaultRemoteConfig(config.publicUrl)),
    adminToken: await AdminToken.open(fastify.stores.fleet, config.adminToken),
    committer,
    syncLimiter: createRateLimiter({ store: fastify.stores.rateLimits, name: 'sync', max: config.syncRateLimitMax, windowMs: config.syncRateLimitWindowS * 1000, what: 'requests per agent' }),
    enrolLimiter: createRateLimiter({ store: fastify.stores.rateLimits, name: 'enrol', max: config.enrolRateLimitPerMin, windowMs: 60_000, what: 'enrolment attempts per address' }),
    nextSyncS: config.nextSyncS
  })
  // Graceful shutdown (docs/operations.md): Fastify refuses new requests (503) from close();
  // ingest requests already received finish: their groups commit, reach the disk and are
  // acknowledged before the database closes. Bounded, so a stuck client cannot hold the exit.
  let inflight = 0
  let drained: (() => void) | null = null
  fastify.addHook('onRequest', async (request) => { if (isIngest(request.url)) inflight++ })
  const done = async (request: { url: string }): Promise<void> => {
    if (isIngest(request.url) && --inflight === 0) drained?.()
  }
  fastify.addHook('onResponse', done)
  fastify.addHook('onRequestAbort', done)
  fastify.addHook('preClose', async () => {
    committer.flush()
    if (inflight === 0) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, config.shutdownGraceS * 1000)
      drained = () => { clearTimeout(timer); resolve() }
    })
  })
  // Commit what is still queued before the database closes (db's onClose runs after ours: hooks run in reverse).
  fastify.addHook('onClose', async () => { await committer.close() })
}, { name: 'fleet', dependencies: ['db', 'auth'] })

const INGEST_PATHS: readonly string[] = [FLEET_PATHS.sync, PATHS.results]
const isIngest = (url: string): boolean => INGEST_PATHS.includes(url.split('?')[0] ?? '')
