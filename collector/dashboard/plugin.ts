import type { FastifyInstance } from 'fastify'
import fastifyStatic from '@fastify/static'
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { packageRoot } from '../paths.js'
import { dashboardContext } from './context.js'
import { agentHealthRoutes } from './routes.js'

export const DASHBOARD_PREFIX = '/dashboard/'

/**
 * Everything is served from this process, so a CSP of 'self' holds: the dashboard must keep
 * working on a provincial network with no Internet access, and a CDN URL slipping in would
 * fail loudly in the browser test instead of silently in the field.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join('; ')

/**
 * chart.js's dist/ folder, which holds the UMD build. Resolved like Node would, so it works
 * from sources and from an installed package; chart.js's `exports` map does not expose the
 * UMD file itself, so resolve the CommonJS entry beside it and check.
 */
export function chartJsDir (): string {
  const require = createRequire(import.meta.url)
  const dir = dirname(require.resolve('chart.js'))
  if (!existsSync(join(dir, 'chart.umd.js'))) throw new Error(`chart.js UMD build not found in ${dir}; reinstall chart.js 4`)
  return dir
}

export function dashboardPublicDir (): string {
  return join(packageRoot(), 'collector', 'dashboard', 'public')
}

/**
 * The web dashboard (docs/dashboard.md): static ES modules and CSS under /dashboard/, the
 * chart library under /dashboard/vendor/, a small context document (department name,
 * provinces with agencies) and the public agent-health report. `GET /` redirects here.
 */
export async function dashboardPlugin (fastify: FastifyInstance, opts: { departmentName: string, version: string, sample?: boolean }): Promise<void> {
  fastify.addHook('onSend', async (request, reply) => {
    if (request.url.startsWith(DASHBOARD_PREFIX) || request.url === '/dashboard') {
      reply.header('content-security-policy', CSP)
      reply.header('x-content-type-options', 'nosniff')
      reply.header('referrer-policy', 'no-referrer')
    }
  })

  fastify.get('/', async (_request, reply) => reply.redirect(DASHBOARD_PREFIX, 302))

  await fastify.register(fastifyStatic, {
    root: dashboardPublicDir(),
    prefix: DASHBOARD_PREFIX,
    index: 'index.html',
    // The pages change with each release; revalidate rather than cache blindly.
    cacheControl: true,
    maxAge: 0
  })
  await fastify.register(fastifyStatic, {
    root: chartJsDir(),
    prefix: `${DASHBOARD_PREFIX}vendor/`,
    decorateReply: false,
    // Only the UMD bundle and its source map; nothing else from node_modules is exposed.
    allowedPath: (pathName) => /^\/chart\.umd\.js(\.map)?$/.test(pathName),
    maxAge: '1d'
  })

  fastify.get(`${DASHBOARD_PREFIX}context.json`, async () =>
    await dashboardContext(fastify.stores.rollups, { departmentName: opts.departmentName, version: opts.version, sample: opts.sample ?? false }))

  await fastify.register(agentHealthRoutes)

  fastify.addHook('onListen', async function () {
    const urls = this.addresses().map((a) => {
      if (typeof a === 'string') return a // a Unix socket path
      const host = a.family === 'IPv6' ? `[${a.address}]` : a.address
      return `http://${host}:${a.port}${DASHBOARD_PREFIX}`
    })
    this.log.info({ dashboard: urls }, `dashboard: ${urls[0] ?? DASHBOARD_PREFIX}`)
  })
}
