import type { FastifyInstance } from 'fastify'
import { BatchReply, ResultBatch } from '../../shared/schemas/result.js'
import { PATHS } from '../../shared/protocol.js'

/**
 * POST /api/v1/results: a batch of result records from an authenticated agent. Each item is
 * answered as accepted, duplicate, conflict or rejected (with the field and reason). When
 * every item is rejected the reply is 400 and nothing is stored.
 */
export async function resultRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.post(PATHS.results, {
    preHandler: fastify.requireAgent,
    schema: { body: ResultBatch, response: { 200: BatchReply, 400: { type: 'object', additionalProperties: true } } }
  }, async (request, reply) => {
    const agent = request.agent
    const agency = request.agency
    if (agent === null || agency === null) throw new Error('requireAgent did not attach the agent')
    const { results } = request.body as ResultBatch
    const receivedAt = Date.now()
    const outcome = fastify.ingestor.ingest(agent, agency, results, receivedAt)
    fastify.agencies.touchAgent(agent.id, receivedAt, null)
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
