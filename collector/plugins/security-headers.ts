import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'

/**
 * Headers on every reply (issue 11): no MIME sniffing, never framed by another site, no
 * Referer leaking a report URL to elsewhere. Every reply gets a Content-Security-Policy that
 * forbids framing; the dashboard and /docs replace it with their full policies (both also
 * forbid framing).
 *
 * Replies that may carry a secret (a bearer token, an enrolment code, the admin's view of an
 * agency) are never stored by a browser or a proxy: `Cache-Control: no-store` on the agent and
 * admin APIs and on any request that itself carried credentials.
 */
const SECRET_PREFIXES = ['/api/v1/admin/', '/api/v1/enroll', '/api/v1/sync', '/api/v1/results', '/metrics']

export function carriesSecret (request: FastifyRequest): boolean {
  if (request.headers.authorization !== undefined) return true
  const path = request.url.split('?')[0] ?? ''
  return SECRET_PREFIXES.some((p) => path === p || path.startsWith(p))
}

export default fp(async (fastify) => {
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff')
    reply.header('referrer-policy', 'no-referrer')
    // Runs before the dashboard's and Swagger UI's own hooks, which then set their full policies.
    reply.header('content-security-policy', "frame-ancestors 'none'")
    if (carriesSecret(request)) reply.header('cache-control', 'no-store')
  })
}, { name: 'security-headers' })
