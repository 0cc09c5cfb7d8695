import type { FastifyInstance } from 'fastify'
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox'
import { EnrollReply, EnrollRequest, ErrorReply, FLEET_PATHS } from '../../shared/schemas/fleet.js'

/**
 * POST /api/v1/enroll: a machine trades a single-use enrolment code for an agent id and a
 * bearer token (returned once; only its hash is kept), plus its agency and the config in force.
 */
export async function enrollRoutes (fastify: FastifyInstance): Promise<void> {
  // Strict TypeBox check, the same schema the agent uses: Fastify's Ajv would coerce types (false → 0).
  fastify.setValidatorCompiler(TypeBoxValidatorCompiler)
  fastify.post(FLEET_PATHS.enroll, {
    onRequest: async (request) => { await fastify.fleet.enrolLimiter.hit(request.ip) },
    schema: { body: EnrollRequest, response: { 200: EnrollReply, '4xx': ErrorReply } }
  }, async (request) => {
    const body = request.body as EnrollRequest
    const { agent, token, agency } = await fastify.fleet.enrolment.enrol(body)
    request.log.info({ agentId: agent.id, agencyId: agency.id, hostname: body.hostname, agentVersion: body.agentVersion }, 'agent enrolled')
    const reply: EnrollReply = {
      agentId: agent.id,
      token,
      agency: {
        id: agency.id,
        name: agency.name,
        communeCode: agency.communeCode,
        provinceCode: agency.provinceCode,
        legacyDistrictCode: agency.legacyDistrictCode,
        connectionClass: agency.connectionClass,
        category: agency.category,
        isp: agency.isp,
        planDownMbps: agency.planDownMbps,
        planUpMbps: agency.planUpMbps
      },
      config: fastify.fleet.remoteConfig.current()
    }
    return reply
  })
}
