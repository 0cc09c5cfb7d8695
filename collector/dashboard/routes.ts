import type { FastifyInstance } from 'fastify'
import { API_PREFIX } from '../../shared/protocol.js'
import { agentHealthReport, type AgentHealthFilter } from './agent-health.js'
import { publicAgentId } from '../reports/public-view.js'
import { newestVersion } from '../fleet/versions.js'
import { TOCDO_VERSION } from '../../shared/version.js'
import { CURRENT_GEO_VERSION, GEO_VERSIONS, LEGACY_GEO_VERSION, type GeoVersion } from '../storage/area-levels.js'

export const AGENT_HEALTH_PATH = `${API_PREFIX}/reports/agent-health`

/**
 * GET /api/v1/reports/agent-health: online / stale / offline per agent, without the admin
 * token, for the dashboard's agent-health and agency pages (docs/dashboard.md).
 */
export async function agentHealthRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.get(AGENT_HEALTH_PATH, {
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          province: { type: 'string', pattern: '^[0-9]{2}$', description: 'Province code in the version given by `version`' },
          version: { type: 'string', enum: [...GEO_VERSIONS], default: CURRENT_GEO_VERSION, description: `'${LEGACY_GEO_VERSION}' = former (pre-reform) province, '${CURRENT_GEO_VERSION}' = current province` },
          agency: { type: 'string', minLength: 1, maxLength: 64, description: 'Only the agents of this agency id' }
        }
      }
    }
  }, async (request) => {
    const q = request.query as { province?: string, version: GeoVersion, agency?: string }
    const filter: AgentHealthFilter = {}
    if (q.province !== undefined) filter.province = { version: q.version, code: q.province }
    if (q.agency !== undefined) filter.agencyId = q.agency
    const shelf = fastify.hasDecorator('packages') ? await fastify.packages.load() : null
    const report = await agentHealthReport(fastify.stores.health, filter, Date.now(), newestVersion([TOCDO_VERSION, shelf?.ok === true ? shelf.manifest.version : null]))
    // The public sees an agent by its short id only; the full id is the admin API's (issue 11).
    return { ...report, agents: report.agents.map((a) => ({ ...a, id: publicAgentId(a.id) })) }
  })
}
