import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'

/**
 * A real HTTP CONNECT proxy on 127.0.0.1, port 0, as government networks run in front of
 * their machines: it tunnels TCP to the requested host:port and records each request (and
 * its Proxy-Authorization), so a test can tell whether traffic went through it.
 */
export interface ConnectProxy {
  url: string
  port: number
  /** `host:port` of every CONNECT, in order. */
  connects: string[]
  /** Proxy-Authorization header of every CONNECT (undefined when absent). */
  auth: Array<string | undefined>
  /** Requests that were not CONNECT (absolute-form http://…). */
  others: string[]
  close: () => Promise<void>
}

export async function startConnectProxy ({ requireAuth }: { requireAuth?: string } = {}): Promise<ConnectProxy> {
  const connects: string[] = []
  const auth: Array<string | undefined> = []
  const others: string[] = []
  const sockets = new Set<net.Socket>()
  const server = http.createServer((req, res) => {
    others.push(`${req.method ?? ''} ${req.url ?? ''}`)
    res.writeHead(405, { connection: 'close' }).end('this proxy only tunnels (CONNECT)\n')
  })
  server.on('connection', (s) => { sockets.add(s); s.once('close', () => sockets.delete(s)) })
  server.on('connect', (req, client, head) => {
    const target = req.url ?? ''
    connects.push(target)
    auth.push(req.headers['proxy-authorization'])
    if (requireAuth !== undefined && req.headers['proxy-authorization'] !== requireAuth) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n')
      return
    }
    const i = target.lastIndexOf(':')
    const host = target.slice(0, i).replace(/^\[|\]$/g, '')
    const upstream = net.connect({ host, port: Number(target.slice(i + 1)) })
    sockets.add(upstream)
    upstream.once('close', () => sockets.delete(upstream))
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on('error', () => { client.destroy() })
    client.on('error', () => { upstream.destroy() })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    connects,
    auth,
    others,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
