import Fastify, { type FastifyInstance } from 'fastify'
import type { Server as HttpsServer } from 'node:https'
import { trustedProxies, type CollectorConfig } from './config.js'
import { readTlsFiles, tlsReloader } from './plugins/tls.js'
import collectorApp from './app.js'
import { collectorLoggerOptions } from './plugins/log-options.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Re-reads the TLS certificate and key (SIGHUP does this); false when not serving HTTPS or the files do not load. */
    reloadTls: () => boolean
  }
}

/**
 * Builds the Fastify instance with its logger and limits; listening is the caller's choice,
 * so tests can build the same server and listen on port 0.
 */
export async function buildCollector (config: Readonly<CollectorConfig>, { dbFile, logger, logStream }: {
  dbFile?: string
  logger?: boolean | object
  /** Log JSON lines to this stream, with the production redaction and serializers (tests read it). */
  logStream?: { write: (line: string) => void }
} = {}): Promise<FastifyInstance> {
  const fastify = Fastify({
    logger: logStream !== undefined
      ? { ...collectorLoggerOptions(config.logLevel, false), stream: logStream }
      : logger ?? collectorLoggerOptions(config.logLevel, process.stdout.isTTY),
    // The client address rate limits and logs use: the socket's, or X-Forwarded-For's as
    // set by a trusted reverse proxy (docs/operations.md).
    trustProxy: trustedProxies(config.trustProxy).length > 0 ? trustedProxies(config.trustProxy) : false,
    ...(config.tlsCertFile !== '' ? { https: readTlsFiles({ certFile: config.tlsCertFile, keyFile: config.tlsKeyFile }) } : {}),
    bodyLimit: config.bodyLimitBytes,
    // Speed tests hold a connection for up to ~15 s per direction; agents reuse connections.
    keepAliveTimeout: 72_000,
    requestTimeout: 120_000,
    // Only idle keep-alive connections are closed at once: requests in flight finish (graceful
    // shutdown); connections still open after shutdownGraceS are cut (preClose hook below).
    forceCloseConnections: 'idle'
  })
  await fastify.register(collectorApp, { config, ...(dbFile === undefined ? {} : { dbFile }) })
  let cut: NodeJS.Timeout | null = null
  fastify.addHook('preClose', async () => {
    cut = setTimeout(() => { fastify.server.closeAllConnections() }, config.shutdownGraceS * 1000)
    cut.unref()
  })
  fastify.addHook('onClose', async () => { if (cut !== null) clearTimeout(cut) })
  if (config.tlsCertFile !== '') {
    const tls = tlsReloader(fastify.server as unknown as HttpsServer, { certFile: config.tlsCertFile, keyFile: config.tlsKeyFile }, fastify.log)
    fastify.decorate('reloadTls', tls.reload)
    fastify.addHook('onClose', async () => { tls.stop() })
  } else {
    fastify.decorate('reloadTls', () => false)
  }
  return fastify
}

/** Listens on the configured address; on "::" Node accepts IPv4 too (dual-stack socket). */
export async function startCollector (fastify: FastifyInstance, config: Readonly<CollectorConfig>): Promise<string> {
  return await fastify.listen({ host: config.host, port: config.port })
}
