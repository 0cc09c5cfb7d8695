import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox'
import { TocdoError } from '../../shared/errors.js'
import {
  AgencyView, AgentRemoteConfig, AgentView, EnrolmentCodeView, ErrorReply, FLEET_PATHS, NewAgencyReply, NewAgencyRequest
} from '../../shared/schemas/fleet.js'
import { addAgency, agencyView, agentView } from '../fleet/admin.js'
import { newestVersion } from '../fleet/versions.js'
import { installInstructions } from '../downloads/instructions.js'
import { TOCDO_VERSION } from '../../shared/version.js'

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })
const errors = { '4xx': ErrorReply }

/** The admin API, behind the admin bearer token. Every action is logged with its target. */
export async function adminRoutes (fastify: FastifyInstance, { publicUrl }: { publicUrl: string }): Promise<void> {
  fastify.addHook('onRequest', fastify.requireAdmin)
  // Strict TypeBox checks, no type coercion.
  fastify.setValidatorCompiler(TypeBoxValidatorCompiler)
  const { db, agencies } = fastify
  /** The newest agent version this collector knows: its own or the packages it serves. */
  const newest = async (): Promise<string | null> => {
    const s = fastify.hasDecorator('packages') ? await fastify.packages.load() : null
    return newestVersion([TOCDO_VERSION, s?.ok === true ? s.manifest.version : null])
  }

  fastify.post(FLEET_PATHS.adminAgencies, {
    schema: { body: NewAgencyRequest, response: { 200: NewAgencyReply, ...errors } }
  }, async (request) => {
    const out = addAgency(db, agencies, fastify.fleet.enrolment, request.body as NewAgencyRequest)
    request.log.info({ agencyId: out.agency.id, communeCode: out.agency.communeCode, ambiguous: out.agency.placementCandidates }, 'admin: agency added')
    const shelf = fastify.hasDecorator('packages') ? await fastify.packages.load() : null
    return { ...out, install: installInstructions(publicUrl, shelf?.ok === true ? shelf.manifest : null, out.enrolment.code, shelf?.ok === false ? shelf.problem : null) }
  })

  fastify.get(FLEET_PATHS.adminAgencies, {
    schema: { response: { 200: Type.Object({ agencies: Type.Array(AgencyView) }) } }
  }, async () => ({ agencies: agencies.listAgencies().map((a) => agencyView(a, a.placementCandidates)) }))

  fastify.post(FLEET_PATHS.adminEnrolmentCodes, {
    schema: { params: IdParams, response: { 200: EnrolmentCodeView, ...errors } }
  }, async (request) => {
    const { id } = request.params as { id: string }
    const code = fastify.fleet.enrolment.issue(id)
    request.log.info({ agencyId: id }, 'admin: enrolment code issued')
    return { code: code.code, expiresAt: new Date(code.expiresAt).toISOString() }
  })

  fastify.get(FLEET_PATHS.adminAgents, {
    schema: { response: { 200: Type.Object({ agents: Type.Array(AgentView) }) } }
  }, async () => {
    const now = Date.now()
    const latest = await newest()
    return { agents: agencies.listAgents().map((a) => agentView(a, now, latest)) }
  })

  for (const [path, status] of [[FLEET_PATHS.adminRevoke, 'revoked'], [FLEET_PATHS.adminDecommission, 'decommissioned']] as const) {
    fastify.post(path, {
      schema: { params: IdParams, response: { 200: AgentView, ...errors } }
    }, async (request) => {
      const { id } = request.params as { id: string }
      if (!agencies.setAgentStatus(id, status)) throw new TocdoError('TOCDO_ERR_NOT_FOUND', `no agent with id ${id}`, { details: { field: 'id' } })
      request.log.warn({ agentId: id, status }, `admin: agent ${status}`)
      const agent = agencies.listAgents().find((a) => a.id === id)
      if (agent === undefined) throw new Error(`agent ${id} vanished`)
      return agentView(agent, Date.now(), await newest())
    })
  }

  fastify.put(FLEET_PATHS.adminConfig, {
    // The body is validated by the store (whole, with the field named), not here, so an
    // omitted version can be filled in before the check.
    schema: { response: { 200: AgentRemoteConfig, ...errors } }
  }, async (request) => {
    const config = fastify.fleet.remoteConfig.set(request.body)
    request.log.info({ version: config.version }, 'admin: remote config set')
    return config
  })

  fastify.get(FLEET_PATHS.adminConfig, {
    schema: { response: { 200: AgentRemoteConfig } }
  }, async () => fastify.fleet.remoteConfig.current())
}
