import type { FastifyInstance } from 'fastify'
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox'
import { BatchReply, ResultBatch } from '../../shared/schemas/result.js'
import { PATHS } from '../../shared/protocol.js'
import { decodeGzip } from '../plugins/gzip.js'

/**
 * POST /api/v1/results: a batch of result records from an authenticated agent. Each item is
 * answered as accepted, duplicate, conflict or rejected (with the field and reason). When
 * every item is rejected the reply is 400 and nothing is stored. Same ingest path as the
 * sync call: group commit, per-agent rate limit, 422 for an unsupported schema major.
 */
export async function resultRoutes (fastify: FastifyInstance): Promise<void> {
  // Strict TypeBox check, the same schema the agent uses: Fastify's Ajv would coerce types (false → 0).
  fastify.setValidatorCompiler(TypeBoxValidatorCompiler)
  fastify.post(PATHS.results, {
    onRequest: [fastify.requireAgent, async (request) => { await fastify.fleet.syncLimiter.hit(request.agent?.id ?? '') }],
    preParsing: decodeGzip,
    schema: { body: ResultBatch, response: { 200: BatchReply, 400: { type: 'object', additionalProperties: true } } }
  }, async (request, reply) => {
    const agent = request.agent
    const agency = request.agency
    if (agent === null || agency === null) throw new Error('requireAgent did not attach the agent')
    const { results } = request.body as ResultBatch
    fastify.ingestor.assertSupportedMajors(results)
    fastify.fleet.committer.assertCapacity()
    const receivedAt = Date.now()
    const batch = fastify.ingestor.prepare(agent, agency, results, receivedAt)
    const outcome = await fastify.fleet.committer.submit(batch, { kind: 'seen', agentId: agent.id, at: receivedAt })
    request.log.info({ agentId: agent.id, accepted: outcome.accepted, duplicate: outcome.duplicate, conflict: outcome.conflict, rejected: outcome.rejected }, 'results ingested')
    const body = { serverTime: new Date(receivedAt).toISOString(), ...outcome }
    if (outcome.rejected === results.length) {
      const first = outcome.items[0]
      return reply.code(400).send({
        code: 'TOCDO_ERR_VALIDATION',
        message: `no result stored: ${first?.reason ?? 'invalid record'}`,
        field: `results/0${first?.field ?? ''}`,
        ...body
      })
    }
    return body
  })
}
