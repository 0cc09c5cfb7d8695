import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import { TocdoError } from '../../shared/errors.js'
import type { Agency, AgentRow } from '../storage/stores.js'
import { adminTokenFingerprint } from '../fleet/admin-token.js'
import { hashToken } from '../fleet/tokens.js'

declare module 'fastify' {
  interface FastifyRequest {
    agent: AgentRow | null
    agency: Agency | null
    /** 'admin:' + the admin token's fingerprint, once the admin token was accepted (the audit log's "who"). */
    adminActor: string | null
  }
  interface FastifyInstance {
    /** preHandler hook: requires a bearer token of an active agent. */
    requireAgent: (request: FastifyRequest) => Promise<void>
    /** onRequest hook: requires the admin bearer token. */
    requireAdmin: (request: FastifyRequest) => Promise<void>
  }
}

/**
 * Agent authentication by bearer token. Tokens are looked up by their sha256 only; the
 * decision uses no client clock (an agent whose clock is wrong must still authenticate,
 * wazuh/wazuh#38439). Admin calls carry the admin token, also compared by hash.
 */
export default fp(async (fastify) => {
  fastify.decorateRequest('agent', null)
  fastify.decorateRequest('agency', null)
  fastify.decorateRequest('adminActor', null)
  fastify.decorate('requireAgent', async (request: FastifyRequest) => {
    const found = await fastify.stores.fleet.agentByTokenHash(hashToken(bearer(request, 'agent')))
    if (found === undefined) throw new TocdoError('TOCDO_ERR_AUTH_INVALID')
    const { agent, agency } = found
    if (agent.status === 'revoked') throw new TocdoError('TOCDO_ERR_AGENT_REVOKED', 'This agent has been revoked; keep its data and contact the provincial administrator')
    if (agent.status === 'decommissioned') throw new TocdoError('TOCDO_ERR_AGENT_DECOMMISSIONED', 'This agent has been decommissioned; stop measuring')
    request.agent = agent
    request.agency = agency
  })
  fastify.decorate('requireAdmin', async (request: FastifyRequest) => {
    // The fleet plugin owns the token; it is read at request time, after every plugin loaded.
    const token = bearer(request, 'admin')
    if (!fastify.fleet.adminToken.verify(token)) throw new TocdoError('TOCDO_ERR_AUTH_INVALID', 'The admin token is not valid')
    request.adminActor = `admin:${adminTokenFingerprint(token)}`
  })
}, { name: 'auth', dependencies: ['db'] })

function bearer (request: FastifyRequest, who: 'agent' | 'admin'): string {
  const header = request.headers.authorization
  if (header === undefined || !/^Bearer\s+\S+$/i.test(header)) {
    throw new TocdoError('TOCDO_ERR_AUTH_MISSING', `Send the ${who} token as "Authorization: Bearer <token>"`)
  }
  return header.replace(/^Bearer\s+/i, '')
}
