/**
 * ndt7 server (M-Lab's ndt7 protocol, v0.9.x, as docs/ndt7.md states it) so that standard ndt7 clients,
 * such as M-Lab's own @m-lab/ndt7, can measure against a tocdo server. Download and upload
 * only; see docs/ndt7.md for what is and is not supported.
 */
import { randomUUID } from 'node:crypto'
import { STATUS_CODES, type IncomingMessage } from 'node:http'
import { performance } from 'node:perf_hooks'
import type { Duplex } from 'node:stream'
import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { WebSocket, WebSocketServer, type RawData } from 'ws'
import {
  CLOSE_GRACE_MS, DEFAULT_DURATION_MS, INITIAL_MESSAGE_SIZE, MAX_MESSAGE_SIZE, MAX_SCALED_MESSAGE_SIZE,
  MEASUREMENT_INTERVAL_MS, NDT7_DOWNLOAD_PATH, NDT7_SUBPROTOCOL, NDT7_UPLOAD_PATH,
  buildMeasurement, formatEndpoint, nextMessageSize, parseNdt7Query, type Ndt7Test
} from './ndt7-spec.js'

export interface Ndt7TestSummary {
  test: Ndt7Test
  /** Our per-connection id, also sent to the client as ConnectionInfo.UUID. */
  uuid: string
  /** Application-level payload bytes: handed to the kernel (download) or received (upload). */
  bytes: number
  elapsedMs: number
  /** 'duration': we ended it on time; 'early_exit': the client's early_exit byte budget was
   * reached; 'peer': the client closed (or the connection failed) first. */
  endedBy: 'duration' | 'early_exit' | 'peer'
  client: string
  /** Client metadata from the query string (server_* keys dropped). */
  metadata: Record<string, string>
}

export interface Ndt7PluginOptions {
  /** Pre-generated incompressible bytes, at least 1 MiB; messages are slices of it. */
  payload: Buffer
  /** Returns a release function, or null when the server is full (answered with 503). */
  admit?: (req: IncomingMessage) => (() => void) | null
  maxDurationMs?: number
  retryAfterSeconds?: number
  onTestComplete?: (summary: Ndt7TestSummary) => void
}

const plugin: FastifyPluginAsync<Ndt7PluginOptions> = async (fastify, opts) => {
  const { payload, admit, onTestComplete } = opts
  const maxDurationMs = opts.maxDurationMs ?? DEFAULT_DURATION_MS
  const retryAfter = String(opts.retryAfterSeconds ?? 15)
  if (payload.length < MAX_SCALED_MESSAGE_SIZE) {
    throw new Error(`ndt7 payload must be at least ${MAX_SCALED_MESSAGE_SIZE} bytes`)
  }

  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false, // compression would measure the CPU, not the network
    maxPayload: MAX_MESSAGE_SIZE, // spec: a receive limit MUST NOT be below 1 << 24
    handleProtocols: (offered) => offered.has(NDT7_SUBPROTOCOL) ? NDT7_SUBPROTOCOL : false
  })
  let closing = false

  function onUpgrade (req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const rawUrl = req.url ?? '/'
    const q = rawUrl.indexOf('?')
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q)
    const test: Ndt7Test | null = path === NDT7_DOWNLOAD_PATH ? 'download' : path === NDT7_UPLOAD_PATH ? 'upload' : null
    if (test === null) {
      // Other /ndt/ paths (e.g. /ndt/v7/ping) are ours but unsupported; anything else belongs
      // to whichever other upgrade listener is registered.
      if (path === '/ndt' || path.startsWith('/ndt/')) rejectUpgrade(socket, 404, 'unknown ndt7 test')
      return
    }
    // §"The WebSocket handshake": without the ndt7 subprotocol the upgrade MUST fail (4xx);
    // the reference server answers 400.
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim())
    if (!offered.includes(NDT7_SUBPROTOCOL)) {
      rejectUpgrade(socket, 400, `Sec-WebSocket-Protocol must offer ${NDT7_SUBPROTOCOL}`)
      return
    }
    const query = parseNdt7Query(q === -1 ? '' : rawUrl.slice(q + 1))
    if (!query.ok) {
      rejectUpgrade(socket, 400, query.reason)
      return
    }
    const release = closing ? null : admit === undefined ? () => {} : admit(req)
    if (release === null) {
      rejectUpgrade(socket, 503, 'server is full', { 'Retry-After': retryAfter })
      return
    }
    // Release on TCP close rather than WebSocket close: if ws rejects the handshake itself
    // (bad key or version) it never calls back, but the socket still closes.
    socket.once('close', release)
    wss.handleUpgrade(req, socket, head, (ws) => {
      runTest(ws, req, test, query.metadata, query.earlyExitBytes)
    })
  }

  function runTest (
    ws: WebSocket, req: IncomingMessage, test: Ndt7Test, metadata: Record<string, string>, earlyExitBytes: number | null
  ): void {
    const start = performance.now()
    const uuid = randomUUID()
    const client = formatEndpoint(req.socket.remoteAddress, req.socket.remotePort)
    const connectionInfo = { Client: client, Server: formatEndpoint(req.socket.localAddress, req.socket.localPort), UUID: uuid }
    let bytes = 0 // download: flushed to the kernel; upload: received
    let summary: Ndt7TestSummary | null = null
    let earlyExitReached = false
    let tick = 0
    let lastSent = -Infinity
    let tickTimer: NodeJS.Timeout | undefined

    function end (endedBy: Ndt7TestSummary['endedBy']): Ndt7TestSummary {
      if (summary !== null) return summary
      summary = { test, uuid, bytes, elapsedMs: performance.now() - start, endedBy, client, metadata }
      report(fastify.log, onTestComplete, summary)
      return summary
    }

    // Measurements go out on a 250 ms grid from the start, never closer than 250 ms apart
    // (spec: not more often than every 250 ms). The last one is the summary the client keeps
    // (§"Measurement message"), so the test ends on a tick: at maxDurationMs, or up to
    // 250 ms later if the event loop ran late.
    const deadline = start + maxDurationMs
    let finalTick = false
    function scheduleTick (): void {
      tick++
      const due = Math.max(Math.min(start + tick * MEASUREMENT_INTERVAL_MS, deadline), lastSent + MEASUREMENT_INTERVAL_MS)
      finalTick = due >= deadline
      tickTimer = setTimeout(onTick, Math.max(0, Math.ceil(due - performance.now())))
    }
    function onTick (): void {
      if (ws.readyState !== WebSocket.OPEN) return
      const last = earlyExitReached || finalTick
      const final = last ? end(earlyExitReached ? 'early_exit' : 'duration') : null
      const m = buildMeasurement(
        test, final?.elapsedMs ?? performance.now() - start, final?.bytes ?? bytes, tick === 1 ? connectionInfo : undefined
      )
      ws.send(JSON.stringify(m))
      lastSent = performance.now()
      if (last) {
        // §"WebSocket channel usage": the server MAY start the closing handshake at any time.
        ws.close(1000)
      } else {
        scheduleTick()
      }
    }

    // §"WebSocket channel usage": the sender keeps the connection busy with binary messages,
    // growing them per the spec appendix. Sending only when ws has drained below a few
    // messages keeps memory bounded and makes the size rule track what the link absorbs.
    let size = INITIAL_MESSAGE_SIZE
    let queued = 0
    let offset = 0
    let pumpScheduled = false
    // Send callbacks of writes the kernel took at once arrive on process.nextTick; pumping
    // from there directly would starve timers and every other request on the server.
    function schedulePump (): void {
      if (pumpScheduled) return
      pumpScheduled = true
      setImmediate(() => { pumpScheduled = false; pump() })
    }
    function pump (): void {
      if (earlyExitReached || summary !== null) return
      while (ws.readyState === WebSocket.OPEN && ws.bufferedAmount < 4 * size) {
        if (offset + size > payload.length) offset = 0
        const chunk = payload.subarray(offset, offset + size) // a view: no copy, no new random bytes
        offset += size
        queued += size
        ws.send(chunk, { binary: true }, (err) => {
          if (err !== undefined && err !== null) return
          if (summary === null) bytes += chunk.length
          if (earlyExitBytes !== null && bytes >= earlyExitBytes) earlyExitReached = true
          schedulePump()
        })
        size = nextMessageSize(size, queued)
      }
    }

    const hardStop = setTimeout(() => ws.terminate(), maxDurationMs + CLOSE_GRACE_MS)
    ws.on('message', (data, isBinary) => {
      if (test === 'upload') {
        // Client text messages are optional measurements; we do not need them.
        if (isBinary && summary === null) bytes += rawLength(data)
      } else if (isBinary) {
        // §"WebSocket channel usage": a binary message where none is expected SHOULD close
        // the connection.
        ws.terminate()
      }
    })
    ws.on('error', (err) => fastify.log.debug({ err, uuid }, 'ndt7 connection error'))
    ws.on('close', () => {
      clearTimeout(tickTimer)
      clearTimeout(hardStop)
      end('peer')
    })

    scheduleTick()
    if (test === 'download') pump()
  }

  fastify.server.on('upgrade', onUpgrade)
  // preClose, not only onClose: Fastify's server.close() waits for every TCP connection,
  // upgraded ones included, before the onClose hooks run.
  fastify.addHook('preClose', (done) => {
    closing = true
    for (const ws of wss.clients) ws.terminate()
    done()
  })
  fastify.addHook('onClose', (_instance, done) => {
    fastify.server.off('upgrade', onUpgrade)
    for (const ws of wss.clients) ws.terminate()
    wss.close(() => done())
  })
}

function report (log: FastifyBaseLogger, cb: Ndt7PluginOptions['onTestComplete'], summary: Ndt7TestSummary): void {
  log.info({ ndt7: summary }, 'ndt7 test finished')
  try {
    cb?.(summary)
  } catch (err) {
    log.error({ err }, 'ndt7 onTestComplete callback threw')
  }
}

function rawLength (data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0)
  return data.byteLength
}

/** Answers an upgrade request with a plain HTTP error, as ws does for its own rejections. */
function rejectUpgrade (socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const body = `${message}\n`
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)
  ]
  socket.once('finish', () => socket.destroy())
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`)
}

export const ndt7Plugin = fp(plugin, { fastify: '5.x', name: 'tocdo-ndt7' })
