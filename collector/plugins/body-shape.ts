import fp from 'fastify-plugin'
import { TocdoError } from '../../shared/errors.js'
import { BODY_SHAPE, shapeProblem } from '../../shared/schemas/shape.js'

/**
 * Every parsed JSON body is bounded in depth and properties per object before validation, so
 * a free-form part (unknown properties are kept) cannot carry a value that overflows the stack
 * later (issue 11: 20,000 levels inside heartbeat.counters). The refusal names the field.
 */
export default fp(async (fastify) => {
  fastify.addHook('preValidation', async (request) => {
    if (typeof request.body !== 'object' || request.body === null) return
    const problem = shapeProblem(request.body, BODY_SHAPE)
    if (problem !== null) {
      const field = `body${problem.field === '/' ? '' : problem.field}`
      throw new TocdoError('TOCDO_ERR_VALIDATION', `${field}: ${problem.message}; send plain data`, { details: { field } })
    }
  })
}, { name: 'body-shape' })
