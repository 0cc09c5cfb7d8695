import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'

/**
 * OpenAPI 3 document of every route registered after this plugin, at /docs/json, and Swagger UI
 * at /docs. The UI's assets are served from the installed @fastify/swagger-ui package, so the
 * page works on a provincial network with no Internet access.
 */
export default fp<{ version: string }>(async (fastify, opts) => {
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'tocdo collector API',
        version: opts.version,
        description: 'Broadband measurement for provincial governments: agent ingest, speed-test endpoints, and reports per commune, legacy district and province against national and provincial targets. Report shapes and how each figure is computed: docs/reports-api.md and docs/reports.md.'
      },
      tags: [
        { name: 'reports', description: 'Figures per area against targets (read-only)' },
        { name: 'geography', description: 'Administrative units, 2025-03 (pre-reform) and 2025-07 (current)' }
      ]
    }
  })
  await fastify.register(swaggerUi, {
    routePrefix: '/docs',
    // Swagger UI's own policy (hashes of its inline scripts), never framed by another site (issue 11),
    // and styles from this server only: the bundle sets inline styles, which its policy would
    // block (a hash beside 'unsafe-inline' disables it, so the directive is replaced whole).
    staticCSP: true,
    transformStaticCSP: (header: string) => header
      .replace("frame-ancestors 'self'", "frame-ancestors 'none'")
      .replace(/style-src [^;]*/, "style-src 'self' 'unsafe-inline'")
      .replace(/font-src [^;]*/, "font-src 'self' data:"),
    uiConfig: { docExpansion: 'list', deepLinking: true }
  })
}, { name: 'openapi' })
