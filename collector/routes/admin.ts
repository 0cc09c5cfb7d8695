import type { FastifyInstance } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox'
import { TocdoError } from '../../shared/errors.js'
import {
  AgencyUpdateRequest, AgencyView, AgentRemoteConfig, AgentView, AuditListReply, EnrolmentCodeView, ErrorReply, FLEET_PATHS, NewAgencyReply, NewAgencyRequest
} from '../../shared/schemas/fleet.js'
import { addAgency, agencyView, agentView } from '../fleet/admin.js'
import { newestVersion } from '../fleet/versions.js'
import { installInstructions } from '../downloads/instructions.js'
import { TOCDO_VERSION } from '../../shared/version.js'

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })
const errors = { '4xx': ErrorReply }
const AUDIT_LIST_MAX = 1000
// Query strings are text and the strict validator does not coerce: digits, then a range check naming the field.
const AuditQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$', description: `entries to return, 1 to ${AUDIT_LIST_MAX} (default 100)` })),
  before: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'only entries with a smaller id (the previous page\'s nextBefore)' }))
}, { additionalProperties: false })
type AuditQuery = Static<typeof AuditQuery>

/** The admin API, behind the admin bearer token. Every action is logged with its target. */
export async function adminRoutes (fastify: FastifyInstance, { publicUrl }: { publicUrl: string }): Promise<void> {
  fastify.addHook('onRequest', fastify.requireAdmin)
  // Strict TypeBox checks, no type coercion.
  fastify.setValidatorCompiler(TypeBoxValidatorCompiler)
  const { fleet: store } = fastify.stores
  /** The newest agent version this collector knows: its own or the packages it serves. */
  const newest = async (): Promise<string | null> => {
    const s = fastify.hasDecorator('packages') ? await fastify.packages.load() : null
    return newestVersion([TOCDO_VERSION, s?.ok === true ? s.manifest.version : null])
  }

  fastify.post(FLEET_PATHS.adminAgencies, {
    config: { audit: 'agency.add' },
    schema: { body: NewAgencyRequest, response: { 200: NewAgencyReply, ...errors } }
  }, async (request) => {
    const out = await addAgency(fastify.stores, request.body as NewAgencyRequest)
    request.log.info({ agencyId: out.agency.id, communeCode: out.agency.communeCode, ambiguous: out.agency.placementCandidates }, 'admin: agency added')
    // The enrolment code issued with the agency is a secret: never in the audit row.
    request.auditNote = { target: out.agency.id, summary: { name: out.agency.name, communeCode: out.agency.communeCode, connectionClass: out.agency.connectionClass, isp: out.agency.isp, enrolmentCodeExpiresAt: out.enrolment.expiresAt } }
    const shelf = fastify.hasDecorator('packages') ? await fastify.packages.load() : null
    return { ...out, install: installInstructions(publicUrl, shelf?.ok === true ? shelf.manifest : null, out.enrolment.code, shelf?.ok === false ? shelf.problem : null) }
  })

  fastify.get(FLEET_PATHS.adminAgencies, {
    schema: { response: { 200: Type.Object({ agencies: Type.Array(AgencyView) }) } }
  }, async () => ({ agencies: (await store.listAgencies()).map((a) => agencyView(a, a.placementCandidates)) }))

  fastify.patch(FLEET_PATHS.adminAgency, {
    config: { audit: 'agency.update' },
    schema: { params: IdParams, body: AgencyUpdateRequest, response: { 200: AgencyView, ...errors } }
  }, async (request) => {
    const { id } = request.params as { id: string }
    const body = request.body as AgencyUpdateRequest
    const zone = body.highTechZone === null ? null : body.highTechZone.trim()
    const a = await store.setHighTechZone(id, zone)
    if (a === undefined) throw new TocdoError('TOCDO_ERR_NOT_FOUND', `no agency with id ${id}`, { details: { field: 'id' } })
    request.log.info({ agencyId: id, highTechZone: zone }, 'admin: agency updated')
    request.auditNote = { target: id, summary: { highTechZone: zone } }
    return agencyView(a, a.placementCandidates)
  })

  fastify.post(FLEET_PATHS.adminEnrolmentCodes, {
    config: { audit: 'enrolment-code.issue' },
    schema: { params: IdParams, response: { 200: EnrolmentCodeView, ...errors } }
  }, async (request) => {
    const { id } = request.params as { id: string }
    const code = await fastify.fleet.enrolment.issue(id)
    request.log.info({ agencyId: id }, 'admin: enrolment code issued')
    const expiresAt = new Date(code.expiresAt).toISOString()
    request.auditNote = { summary: { expiresAt } }
    return { code: code.code, expiresAt }
  })

  fastify.get(FLEET_PATHS.adminAgents, {
    schema: { response: { 200: Type.Object({ agents: Type.Array(AgentView) }) } }
  }, async () => {
    const now = Date.now()
    const latest = await newest()
    return { agents: (await store.listAgents()).map((a) => agentView(a, now, latest)) }
  })

  for (const [path, status] of [[FLEET_PATHS.adminRevoke, 'revoked'], [FLEET_PATHS.adminDecommission, 'decommissioned']] as const) {
    fastify.post(path, {
      config: { audit: status === 'revoked' ? 'agent.revoke' : 'agent.decommission' },
      schema: { params: IdParams, response: { 200: AgentView, ...errors } }
    }, async (request) => {
      const { id } = request.params as { id: string }
      const agent = await store.setAgentStatus(id, status, Date.now())
      if (agent === undefined) throw new TocdoError('TOCDO_ERR_NOT_FOUND', `no agent with id ${id}`, { details: { field: 'id' } })
      request.log.warn({ agentId: id, status }, `admin: agent ${status}`)
      request.auditNote = { summary: { status } }
      return agentView(agent, Date.now(), await newest())
    })
  }

  fastify.put(FLEET_PATHS.adminConfig, {
    config: { audit: 'config.set' },
    // The body is validated by the store (whole, with the field named), not here, so an
    // omitted version can be filled in before the check.
    schema: { response: { 200: AgentRemoteConfig, ...errors } }
  }, async (request) => {
    const config = await fastify.fleet.remoteConfig.set(request.body)
    request.log.info({ version: config.version }, 'admin: remote config set')
    request.auditNote = { target: null, summary: { version: config.version, fields: Object.keys(request.body as object).sort().join(',') } }
    return config
  })

  fastify.get(FLEET_PATHS.adminConfig, {
    schema: { response: { 200: AgentRemoteConfig } }
  }, async () => fastify.fleet.remoteConfig.current())

  fastify.get(FLEET_PATHS.adminAudit, {
    schema: { querystring: AuditQuery, response: { 200: AuditListReply, ...errors } }
  }, async (request) => {
    const q = request.query as AuditQuery
    const limit = q.limit === undefined ? 100 : Number(q.limit)
    if (limit < 1 || limit > AUDIT_LIST_MAX) throw new TocdoError('TOCDO_ERR_VALIDATION', `limit must be between 1 and ${AUDIT_LIST_MAX}, got ${limit}`, { details: { field: 'querystring/limit' } })
    const before = q.before === undefined ? undefined : Number(q.before)
    const entries = await store.listAudit({ limit, before })
    return {
      entries: entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
      // Pass as ?before= for the next (older) page; null when this page is the last.
      nextBefore: entries.length === limit ? (entries[entries.length - 1]?.id ?? null) : null
    }
  })
}
