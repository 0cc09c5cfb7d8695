import fp from 'fastify-plugin'
import { logUrl } from './log-options.js'

/**
 * Fastify's own 404, minus the query string: its default handler logs "Route GET:<url> not
 * found" with the whole URL, which would put a token sent in a query string into the log.
 * The reply keeps Fastify's code, so a client can still tell a missing route from a missing
 * report (a TOCDO_ERR_NOT_FOUND).
 */
export default fp(async (fastify) => {
  fastify.setNotFoundHandler(async (request, reply) => {
    const url = logUrl(request.url)
    request.log.info({ url }, 'route not found')
    return await reply.code(404).send({ code: 'FST_ERR_NOT_FOUND', message: `Route ${request.method}:${url} not found` })
  })
}, { name: 'not-found' })
