import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Readable } from 'node:stream'
import { performance } from 'node:perf_hooks'
import { isIP } from 'node:net'
import { MAX_DOWNLOAD_BYTES, PATHS, TEST_ID_HEADER } from '../../shared/protocol.js'
import type { Admission } from './admission.js'
import { TestCounters, type TestState } from './test-counters.js'
import { readTcpInfo, type TcpInfoReader } from './tcp-info.js'

export interface SpeedtestOptions {
  payload: Buffer
  admission: Admission
  busyRetryAfterS: number
  version: string
  /** TCP_INFO of the server's sockets; default `ss` on Linux (tcp-info.ts). */
  readTcpInfo?: TcpInfoReader
}

/** Streams `total` bytes cut from the shared payload, in slices of up to 1 MiB. */
class PayloadStream extends Readable {
  #remaining: number
  #offset = 0
  readonly #payload: Buffer
  readonly #counters: TestState | undefined
  #blockedSince: number | null = null
  constructor (payload: Buffer, total: number, counters?: TestState) {
    // Large reads: with 1 MiB instead of 8 KiB messages the per-chunk overhead stops
    // limiting throughput above 1 Gbit/s (m-lab/ndt-server#130).
    super({ highWaterMark: 4 * 1024 * 1024 })
    this.#payload = payload
    this.#remaining = total
    this.#counters = counters
  }

  override _read (size: number): void {
    // Asked for more: the socket took what was queued. The time since the last refused push
    // is time the network, not this server, set the pace.
    if (this.#blockedSince !== null && this.#counters !== undefined) this.#counters.blockedMs += performance.now() - this.#blockedSince
    this.#blockedSince = null
    let more = true
    while (more && this.#remaining > 0) {
      const n = Math.min(this.#remaining, Math.max(size, 1024 * 1024), this.#payload.length - this.#offset)
      const chunk = this.#payload.subarray(this.#offset, this.#offset + n)
      this.#offset = (this.#offset + n) % this.#payload.length
      this.#remaining -= n
      if (this.#counters !== undefined) this.#counters.downloadBytes += n
      more = this.push(chunk)
    }
    if (!more) this.#blockedSince = performance.now()
    if (this.#remaining === 0) this.push(null)
  }
}

/** Bytes the server has received per test id, for upload sampling at the receiver. */
interface UploadProgress { bytes: number, firstByteAt: number | null, lastByteAt: number | null, streams: number, touchedAt: number }

function clientFamily (address: string | undefined): 4 | 6 | null {
  if (address === undefined) return null
  if (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) return 4
  const f = isIP(address)
  return f === 4 || f === 6 ? f : null
}

export function clientAddress (request: FastifyRequest): { address: string | null, family: 4 | 6 | null } {
  const address = request.raw.socket.remoteAddress
  return { address: address ?? null, family: clientFamily(address) }
}

export async function speedtestRoutes (fastify: FastifyInstance, opts: SpeedtestOptions): Promise<void> {
  const progress = new Map<string, UploadProgress>()
  const counters = new TestCounters(opts.readTcpInfo ?? readTcpInfo)
  const sweepTimer = setInterval(() => {
    const t = performance.now()
    for (const [id, p] of progress) if (t - p.touchedAt > 60_000) progress.delete(id)
    counters.sweep()
  }, 10_000)
  sweepTimer.unref()
  fastify.addHook('onClose', async () => { clearInterval(sweepTimer) })

  // Upload bodies are counted, never buffered or parsed.
  fastify.addContentTypeParser('*', (_req, _payload, done) => { done(null) })

  function admitOr503 (request: FastifyRequest, reply: FastifyReply): (() => void) | null {
    const release = opts.admission.admit(testIdOf(request))
    if (release === null) {
      void reply.code(503).header('retry-after', String(opts.busyRetryAfterS))
        .send({ code: 'TOCDO_ERR_SERVER_BUSY', message: 'Test server is at capacity; retry later or use another server' })
      return null
    }
    return release
  }

  // Probes and samples are frequent; keep them out of the info log.
  const quiet = { logLevel: 'warn' as const }

  fastify.get(PATHS.download, {
    ...quiet,
    schema: {
      querystring: {
        type: 'object',
        properties: { bytes: { type: 'integer', minimum: 1, maximum: MAX_DOWNLOAD_BYTES } },
        required: ['bytes']
      }
    }
  }, (request, reply) => {
    const release = admitOr503(request, reply)
    if (release === null) return reply
    const { bytes } = request.query as { bytes: number }
    reply.raw.once('close', release)
    const testId = testIdOf(request)
    const state = testId === undefined ? undefined : counters.seen(testId, request, 'download')
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-encoding', 'identity')
      .header('cache-control', 'no-store, no-transform')
      .header('content-length', String(bytes))
      .send(new PayloadStream(opts.payload, bytes, state))
  })

  fastify.post(PATHS.upload, quiet, async (request, reply) => {
    const release = admitOr503(request, reply)
    if (release === null) return reply
    const testId = testIdOf(request)
    let p: UploadProgress | undefined
    const state = testId === undefined ? undefined : counters.seen(testId, request, 'upload')
    if (testId !== undefined) {
      p = progress.get(testId) ?? { bytes: 0, firstByteAt: null, lastByteAt: null, streams: 0, touchedAt: performance.now() }
      p.streams++
      progress.set(testId, p)
    }
    let bytes = 0
    let first: number | null = null
    let last: number | null = null
    try {
      for await (const chunk of request.raw as AsyncIterable<Buffer>) {
        const t = performance.now()
        first ??= t
        last = t
        bytes += chunk.length
        if (state !== undefined) state.uploadBytes += chunk.length
        if (p !== undefined) {
          p.bytes += chunk.length
          p.firstByteAt ??= t
          p.lastByteAt = t
          p.touchedAt = t
        }
      }
    } finally {
      release()
    }
    return {
      bytes,
      elapsedMs: first !== null && last !== null ? last - first : 0,
      ...clientAddress(request)
    }
  })

  fastify.get(PATHS.uploadProgress, {
    ...quiet,
    schema: { querystring: { type: 'object', properties: { test: { type: 'string', minLength: 1, maxLength: 100 } }, required: ['test'] } }
  }, async (request) => {
    const { test } = request.query as { test: string }
    const p = progress.get(test)
    return {
      test,
      bytes: p?.bytes ?? 0,
      streams: p?.streams ?? 0,
      // Server-side span of received bytes; lets the agent check its own timestamps.
      spanMs: p?.firstByteAt != null && p.lastByteAt != null ? p.lastByteAt - p.firstByteAt : 0,
      // This server's monotonic clock when it read the count: the agent times its samples on
      // it, so a queue filling on the upload path cannot bend the rate (methodology.md §5).
      atMs: performance.now()
    }
  })

  // The server's own counters of a test, read while its streams are still open (test-counters.ts).
  fastify.get(PATHS.testSummary, {
    ...quiet,
    schema: { querystring: { type: 'object', properties: { test: { type: 'string', minLength: 1, maxLength: 100 } }, required: ['test'] } }
  }, async (request, reply) => {
    const { test } = request.query as { test: string }
    const own = testIdOf(request)
    if (own !== undefined) counters.seen(own, request, null)
    return await reply.header('cache-control', 'no-store').send(await counters.summary(test))
  })

  fastify.get(PATHS.ping, quiet, async (_request, reply) => {
    return reply.header('cache-control', 'no-store').code(204).send()
  })

  fastify.get(PATHS.info, async (request) => ({
    service: 'tocdo-speedtest',
    version: opts.version,
    endpoints: {
      download: PATHS.download, upload: PATHS.upload, uploadProgress: PATHS.uploadProgress, testSummary: PATHS.testSummary, ping: PATHS.ping, ndt7: ['/ndt/v7/download', '/ndt/v7/upload']
    },
    client: clientAddress(request),
    capacity: { activeTests: opts.admission.active }
  }))
}

function testIdOf (request: FastifyRequest): string | undefined {
  const v = request.headers[TEST_ID_HEADER]
  return typeof v === 'string' && v.length > 0 && v.length <= 100 ? v : undefined
}
