import http from 'node:http'
import { randomFillSync } from 'node:crypto'
import { isIP, type AddressInfo } from 'node:net'
import { MAX_DOWNLOAD_BYTES, PATHS, TEST_ID_HEADER } from '../../shared/protocol.js'

/**
 * A minimal test server speaking the same protocol as the collector's speed-test endpoints
 * (download, upload with server-side counts, upload progress, ping, /.well-known/tocdo),
 * for the agent's loopback calibration. The agent never imports the collector, so this is
 * a small node:http server of its own; it has no admission control and no logging.
 */
export interface LoopbackServer { url: string, port: number, close: () => Promise<void> }

const CHUNK = 1024 * 1024

export function createLoopbackHandler (): http.RequestListener {
  const payload = randomFillSync(Buffer.allocUnsafe(8 * CHUNK))
  const progress = new Map<string, number>()
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://loopback')
    const testId = req.headers[TEST_ID_HEADER]
    if (req.method === 'GET' && url.pathname === PATHS.ping) {
      res.writeHead(204, { 'cache-control': 'no-store' }).end()
    } else if (req.method === 'GET' && url.pathname === PATHS.download) {
      const bytes = Number(url.searchParams.get('bytes'))
      if (!Number.isInteger(bytes) || bytes < 1 || bytes > MAX_DOWNLOAD_BYTES) { res.writeHead(400).end(); return }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes), 'cache-control': 'no-store' })
      let left = bytes
      let offset = 0
      // Large writes, and a pause whenever the socket buffer is full (back-pressure).
      const pump = (): void => {
        while (left > 0) {
          const n = Math.min(left, CHUNK, payload.length - offset)
          const more = res.write(payload.subarray(offset, offset + n))
          offset = (offset + n) % payload.length
          left -= n
          if (!more) { res.once('drain', pump); return }
        }
        res.end()
      }
      res.on('close', () => { left = 0 })
      pump()
    } else if (req.method === 'POST' && url.pathname === PATHS.upload) {
      let bytes = 0
      const id = typeof testId === 'string' ? testId : null
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length
        if (id !== null) progress.set(id, (progress.get(id) ?? 0) + chunk.length)
      })
      req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes })) })
      req.on('error', () => { res.destroy() })
    } else if (req.method === 'GET' && url.pathname === PATHS.uploadProgress) {
      const test = url.searchParams.get('test') ?? ''
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ test, bytes: progress.get(test) ?? 0, atMs: performance.now() }))
    } else if (req.method === 'GET' && url.pathname === PATHS.info) {
      const address = req.socket.remoteAddress ?? null
      const v4mapped = address?.startsWith('::ffff:') === true && isIP(address.slice(7)) === 4
      const f = address === null ? 0 : v4mapped ? 4 : isIP(address)
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ service: 'tocdo-agent-loopback', client: { address, family: f === 0 ? null : f } }))
    } else {
      res.writeHead(404).end()
    }
  }
}

export async function startLoopbackServer ({ host = '127.0.0.1', port = 0 }: { host?: string, port?: number } = {}): Promise<LoopbackServer> {
  const server = http.createServer({ keepAliveTimeout: 30_000, requestTimeout: 0 }, createLoopbackHandler())
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, resolve) })
  const addr = server.address() as AddressInfo
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  return {
    url: `http://${shown}:${addr.port}`,
    port: addr.port,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
}
