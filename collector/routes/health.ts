import type { FastifyInstance } from 'fastify'
import { PATHS } from '../../shared/protocol.js'

export async function healthRoutes (fastify: FastifyInstance, opts: { mode: 'collector' | 'speedtest-only', version: string }): Promise<void> {
  fastify.get(PATHS.health, { logLevel: 'warn' }, async () => {
    // A health check that says ok while the database is unusable would be a lie.
    if (fastify.hasDecorator('stores')) await fastify.stores.health.ping()
    return { status: 'ok', mode: opts.mode, version: opts.version }
  })
}
