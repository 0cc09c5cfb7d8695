import { Server as TlsServer } from 'node:tls'
import type { FastifyInstance } from 'fastify'
import type { Socket } from 'node:net'
import { PATHS } from '../../shared/protocol.js'

/**
 * Answers `GET /speedtest/ping` at the socket, before Node's HTTP server and Fastify see the
 * request. A ping's round trip should be the network's, but a server that wakes from idle to
 * build request and reply objects adds its own time: on our 2-vCPU test machines, with pings
 * 50–150 ms apart, the full HTTP stack added about 0.35 ms per ping against a plain socket
 * reply (bench/accuracy). The reply has the route's status and headers (204,
 * `Cache-Control: no-store`, `Date`, keep-alive).
 *
 * Every connection starts here. As long as it sends only plain pings, they are answered here;
 * the first request that is anything else (another path or method, a body, HTTP/1.0, an
 * upgrade, a head we do not parse) hands the connection, with the bytes not yet answered, to
 * Node's HTTP server, which serves it and the rest of the connection as usual. `inject()`
 * and connections handed over use the Fastify route, which stays the reference.
 */
export async function pingFastPath (fastify: FastifyInstance): Promise<void> {
  const server = fastify.server
  // Over HTTPS the first bytes are a TLS handshake, not a request head: nothing to answer early.
  if (server instanceof TlsServer) return
  // Node's HTTP server listens for 'connection' in its constructor: it is the first listener.
  const [first] = server.listeners('connection') as Array<(this: typeof server, socket: Socket) => void>
  if (first === undefined) throw new Error('the HTTP server has no connection listener to hand connections to')
  const httpConnection = first
  server.removeListener('connection', httpConnection)
  server.prependListener('connection', (socket: Socket) => { serve(socket) })

  const owned = new Set<Socket>()
  // Connections Node's server does not know yet are closed here, or server.close() would wait.
  fastify.addHook('preClose', async () => { for (const s of owned) s.destroy() })

  function serve (socket: Socket): void {
    owned.add(socket)
    let pending: Buffer | null = null
    // A head sent a byte at a time is cut off like Node's own headersTimeout does.
    let headSince = 0
    const idle = (): void => { socket.destroy() }
    const onError = (): void => { socket.destroy() }
    const onData = (d: Buffer): void => {
      if (pending === null) headSince = performance.now()
      else if (performance.now() - headSince > server.headersTimeout) { socket.destroy(); return }
      let buf = pending === null ? d : Buffer.concat([pending, d])
      pending = null
      while (buf.length > 0) {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) {
          if (buf.length > MAX_HEAD_BYTES) { handOver(buf); return }
          pending = buf
          return
        }
        const close = plainPing(buf.toString('latin1', 0, end))
        if (close === null) { handOver(buf); return }
        socket.write(close ? CLOSE_REPLY : keepAliveReply(server.keepAliveTimeout))
        if (close) { release(); socket.end(); return }
        buf = buf.subarray(end + 4)
      }
    }
    const release = (): void => {
      socket.removeListener('data', onData)
      socket.removeListener('timeout', idle)
      socket.removeListener('error', onError)
      socket.setTimeout(0)
      owned.delete(socket)
    }
    const handOver = (unanswered: Buffer): void => {
      release()
      // The unanswered bytes go back in front of the stream; Node's server reads them first.
      socket.pause()
      socket.unshift(unanswered)
      httpConnection.call(server, socket)
      socket.resume()
    }
    socket.on('data', onData)
    socket.setTimeout(server.keepAliveTimeout)
    socket.on('timeout', idle)
    socket.once('close', () => { owned.delete(socket) })
    socket.on('error', onError)
  }
}

const MAX_HEAD_BYTES = 8 * 1024
const CLOSE_REPLY = 'HTTP/1.1 204 No Content\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n'

let dateSecond = -1
let dateText = ''
function keepAliveReply (keepAliveTimeoutMs: number): string {
  // Date is required of an origin server with a clock (RFC 9110 §6.6.1); one string per second.
  const s = Math.floor(Date.now() / 1000)
  if (s !== dateSecond) { dateSecond = s; dateText = new Date(s * 1000).toUTCString() }
  return `HTTP/1.1 204 No Content\r\nCache-Control: no-store\r\nDate: ${dateText}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(keepAliveTimeoutMs / 1000)}\r\n\r\n`
}

/**
 * For a request head that is a plain HTTP/1.1 ping: whether the client asked to close.
 * null for anything else, which Node's HTTP server then serves (or refuses) in full.
 */
export function plainPing (head: string): boolean | null {
  const lines = head.split('\r\n')
  const m = /^GET (\S+) HTTP\/1\.1$/.exec(lines[0] ?? '')
  if (m === null) return null
  const target = m[1] as string
  const q = target.indexOf('?')
  if ((q < 0 ? target : target.slice(0, q)) !== PATHS.ping) return null
  let host = false
  let close = false
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    if (colon <= 0) return null
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim().toLowerCase()
    if (name === 'host') host = true
    else if (name === 'content-length' || name === 'transfer-encoding' || name === 'upgrade' || name === 'expect') return null
    else if (name === 'connection') close = value.split(',').some((t) => t.trim() === 'close')
  }
  // A request without Host gets Node's 400, as on every other path.
  return host ? close : null
}
