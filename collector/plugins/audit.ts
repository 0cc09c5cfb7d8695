import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import { ADMIN_CLI_USER_AGENT_PREFIX } from '../../shared/schemas/fleet.js'
import { boundedAuditEntry } from '../fleet/audit-entry.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** What an admin handler adds to its audit row: the target it created, a secret-free summary. */
    auditNote: { target?: string | null, summary?: Record<string, unknown> } | null
    /** The error code of a failed admin action, for its audit row. */
    auditError: string | null
  }
  interface FastifyContextConfig {
    /** The action name an admin route records in the audit log, e.g. 'agency.add'. */
    audit?: string
  }
}

const READ_ONLY = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * The audit log of admin actions (docs/operations.md, "Audit log"). Every request that
 * passed the admin token check and may change state (any method but GET/HEAD/OPTIONS) gets
 * one row, successful or not. The row is written as the reply is about to be sent, right after
 * the action's own transaction rather than inside it: only then is the outcome (the status
 * code) known, and a refused action (400, 404) has no transaction at all. The reply waits for
 * the row, so a client that got its answer finds the action in the log on every store (on
 * PostgreSQL the insert is a network round trip, which a write after the reply could lose a
 * race to the client's next request). Requests refused at
 * the token check (401) are not recorded: they name no admin, and an unauthenticated client
 * could otherwise grow the table without bound; the request log keeps them.
 */
export default fp<{ now?: () => number }>(async (fastify, { now = Date.now }) => {
  const fleet = fastify.stores.fleet
  fastify.decorateRequest('auditNote', null)
  fastify.decorateRequest('auditError', null)
  fastify.addHook('onError', async (request, _reply, err) => {
    request.auditError = typeof err.code === 'string' ? err.code : (err.validation !== undefined ? 'TOCDO_ERR_VALIDATION' : 'error')
  })
  fastify.addHook('onSend', async (request, reply, payload) => {
    if (request.adminActor === null || READ_ONLY.has(request.method)) return payload
    try {
      await fleet.recordAudit(boundedAuditEntry({
        at: now(),
        actor: request.adminActor,
        via: viaOf(request),
        action: request.routeOptions.config.audit ?? `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0] ?? ''}`,
        target: request.auditNote?.target !== undefined ? request.auditNote.target : paramId(request),
        summary: {
          ...(request.auditNote?.summary ?? {}),
          ...(request.auditError !== null && reply.statusCode >= 400 ? { error: request.auditError } : {})
        },
        clientIp: request.ip,
        status: reply.statusCode
      }))
    } catch (err) {
      // The action itself has happened; a failed audit write is loud in the log, not a second failure for the client.
      request.log.error({ err, action: request.routeOptions.config.audit }, 'audit: could not record an admin action')
    }
    return payload
  })
}, { name: 'audit', dependencies: ['db', 'auth'] })

function viaOf (request: FastifyRequest): 'cli' | 'api' {
  return (request.headers['user-agent'] ?? '').startsWith(ADMIN_CLI_USER_AGENT_PREFIX) ? 'cli' : 'api'
}

function paramId (request: FastifyRequest): string | null {
  const id = (request.params as { id?: unknown } | undefined)?.id
  return typeof id === 'string' ? id : null
}
