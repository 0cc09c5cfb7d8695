import type { FastifyInstance } from 'fastify'
import { PATHS } from '../../shared/protocol.js'
import { districtReport } from '../reports/district-report.js'

export async function reportRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.get(PATHS.districtReport, {
    schema: {
      querystring: {
        type: 'object',
        properties: { province: { type: 'string', pattern: '^[0-9]{2}$', description: 'Pre-reform (2025-03) province code, e.g. 62 for Kon Tum' } },
        required: ['province']
      }
    }
  }, async (request) => {
    const { province } = request.query as { province: string }
    return districtReport(fastify.db, province)
  })
}
