import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'

/**
 * A small real collector peer on 127.0.0.1 that answers each request as the test says:
 * any status, headers and body. It records every request (gzip bodies decoded), so tests
 * can check what the agent sent and how it reacted, over real HTTP.
 */
export interface SeenRequest { method: string, url: string, headers: IncomingMessage['headers'], body: unknown, at: number }
export interface Answer { status: number, body?: unknown, headers?: Record<string, string> }
export type Responder = (req: SeenRequest, index: number) => Answer

export interface StatusServer {
  url: string
  requests: SeenRequest[]
  respond: (r: Responder) => void
  close: () => Promise<void>
}

export async function startStatusServer (responder: Responder): Promise<StatusServer> {
  let current = responder
  const requests: SeenRequest[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      let raw = Buffer.concat(chunks)
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw)
      let body: unknown = raw.toString('utf8')
      try { body = JSON.parse(raw.toString('utf8')) } catch {}
      const seen: SeenRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, at: Date.now() }
      requests.push(seen)
      const a = current(seen, requests.length - 1)
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers })
      res.end(a.body === undefined ? '' : JSON.stringify(a.body))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respond: (r) => { current = r },
    close: async () => { server.closeAllConnections(); await new Promise<void>((resolve) => server.close(() => resolve())) }
  }
}

/** A 200 sync reply acknowledging every result in the request with `status`. */
export function ackAll (req: SeenRequest, status: 'accepted' | 'duplicate' | 'conflict' | 'rejected' = 'accepted', extra: Record<string, unknown> = {}): Answer {
  const results = ((req.body as { results?: Array<{ id: string }> }).results ?? [])
  const items = results.map((r) => ({ id: r.id, status, ...(status === 'rejected' ? { reason: 'test says no', field: '/download/mbps' } : {}) }))
  const count = (s: string): number => items.filter((i) => i.status === s).length
  return {
    status: 200,
    body: { serverTime: new Date().toISOString(), acks: { items, accepted: count('accepted'), duplicate: count('duplicate'), conflict: count('conflict'), rejected: count('rejected') }, config: null, nextSyncS: 300, ...extra }
  }
}
