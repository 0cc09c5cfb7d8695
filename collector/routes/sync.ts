import type { FastifyInstance } from 'fastify'
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox'
import { TocdoError } from '../../shared/errors.js'
import { ErrorReply, FLEET_PATHS, SyncReply, SyncRequest } from '../../shared/schemas/fleet.js'
import { decodeGzip } from '../plugins/gzip.js'

/**
 * POST /api/v1/sync: heartbeat and up to 500 results in one call (fleet-protocol.md §5).
 * Auth and the per-agent rate limit run before the body is read. Results and heartbeat
 * commit in the same group transaction; the reply (per-item acks, server time for the
 * agent's clock estimate, config when newer) is sent only after that commit.
 */
export async function syncRoutes (fastify: FastifyInstance): Promise<void> {
  // Strict TypeBox check, the same schema the agent uses: Fastify's Ajv would coerce types (false → 0).
  fastify.setValidatorCompiler(TypeBoxValidatorCompiler)
  fastify.post(FLEET_PATHS.sync, {
    onRequest: [fastify.requireAgent, async (request) => { await fastify.fleet.syncLimiter.hit(request.agent?.id ?? '') }],
    preParsing: decodeGzip,
    schema: { body: SyncRequest, response: { 200: SyncReply, '4xx': ErrorReply, '5xx': ErrorReply } }
  }, async (request) => {
    const agent = request.agent
    const agency = request.agency
    if (agent === null || agency === null) throw new Error('requireAgent did not attach the agent')
    const body = request.body as SyncRequest
    if (body.agentId !== agent.id) {
      throw new TocdoError('TOCDO_ERR_FORBIDDEN', 'agentId: does not match the agent the token belongs to', { details: { field: 'body/agentId' } })
    }
    const { ingestor } = fastify
    const { committer, remoteConfig } = fastify.fleet
    ingestor.assertSupportedMajors(body.results)
    committer.assertCapacity()
    const receivedAt = Date.now()
    const batch = ingestor.prepare(agent, agency, body.results, receivedAt)
    const acks = await committer.submit(batch, { kind: 'heartbeat', agentId: agent.id, at: receivedAt, heartbeat: body.heartbeat })
    request.log.info({ agentId: agent.id, accepted: acks.accepted, duplicate: acks.duplicate, conflict: acks.conflict, rejected: acks.rejected, queuePending: body.heartbeat.queue.pending }, 'sync')
    const config = remoteConfig.current()
    const reply: SyncReply = {
      serverTime: new Date().toISOString(),
      acks,
      config: body.heartbeat.configVersion === null || body.heartbeat.configVersion < config.version ? config : null,
      nextSyncS: fastify.fleet.nextSyncS
    }
    return reply
  })
}
