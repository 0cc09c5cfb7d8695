import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { isTocdoError } from '../../shared/errors.js'

/**
 * One shape for every error reply: { code, message, field? }. Validation errors name the
 * failing field; 5xx details stay in the log, never in the reply.
 */
export function errorHandler (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (isTocdoError(err)) {
    if (err.statusCode >= 500) request.log.error({ err }, 'request failed')
    const field = err.details?.field
    // 429 and 503 tell the agent when to come back (fleet-protocol.md §9).
    if (typeof err.details?.retryAfterS === 'number') void reply.header('retry-after', String(err.details.retryAfterS))
    void reply.code(err.statusCode).send({ code: err.code, message: err.message, ...(typeof field === 'string' ? { field } : {}) })
    return
  }
  if (err.validation !== undefined) {
    const first = err.validation[0]
    const path = first?.instancePath !== undefined && first.instancePath !== '' ? first.instancePath : undefined
    const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty
    const field = `${err.validationContext ?? 'body'}${path ?? ''}${missing !== undefined ? '/' + missing : ''}`
    void reply.code(400).send({ code: 'TOCDO_ERR_VALIDATION', message: `${field}: ${first?.message ?? 'invalid'}`, field })
    return
  }
  const status = err.statusCode ?? 500
  if (status >= 500) {
    request.log.error({ err }, 'request failed')
    void reply.code(status).send({ code: 'TOCDO_ERR_INTERNAL', message: 'Internal error' })
    return
  }
  // Fastify's own 4xx (body too large, bad JSON, unsupported media type) keep their code.
  void reply.code(status).send({ code: err.code ?? 'TOCDO_ERR_VALIDATION', message: err.message })
}
