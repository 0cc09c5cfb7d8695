import { afterEach, describe, expect, it } from 'vitest'
import http from 'node:http'
import https from 'node:https'
import net, { type AddressInfo } from 'node:net'
import { randomFillSync } from 'node:crypto'
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ResponseReader, ResponseFramingError, type ResponseHead } from '../../agent/measure/response-reader.js'
import { Http1Connection } from '../../agent/measure/http1.js'
import { selfSignedCert } from '../helpers/tls-cert.js'

const execFileP = promisify(execFile)

interface Parsed { heads: ResponseHead[], body: Buffer, ends: number, consumed: number }

/** Feeds `wire` to a fresh reader in pieces cut at the given offsets. */
function parse (wire: Buffer, cuts: number[] = [], opts: { noBody?: boolean } = {}): Parsed {
  const out: Parsed = { heads: [], body: Buffer.alloc(0), ends: 0, consumed: 0 }
  const parts: Buffer[] = []
  const r = new ResponseReader({ onHead: (h) => out.heads.push(h), onBody: (b) => parts.push(Buffer.from(b)), onEnd: () => { out.ends++ } }, opts)
  let from = 0
  for (const to of [...cuts, wire.length]) {
    out.consumed += r.feed(wire.subarray(from, to))
    from = to
    if (r.done) break
  }
  out.body = Buffer.concat(parts)
  return out
}

const payload = randomFillSync(Buffer.alloc(3000))
function chunked (body: Buffer, sizes: number[], trailer = ''): Buffer {
  const parts: Buffer[] = [Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n\r\n')]
  let at = 0
  for (const n of sizes) {
    parts.push(Buffer.from(`${n.toString(16)}${n % 2 === 0 ? ';ext=1' : ''}\r\n`), body.subarray(at, at + n), Buffer.from('\r\n'))
    at += n
  }
  parts.push(Buffer.from(`0\r\n${trailer}\r\n`))
  return Buffer.concat(parts)
}

describe('HTTP/1.1 response framing', () => {
  it('a Content-Length body, cut at every byte, gives exactly the payload and ends once', () => {
    const wire = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${payload.length}\r\nX-A: 1\r\nx-a: 2\r\n\r\n`), payload])
    for (let cut = 1; cut < 120; cut++) {
      const p = parse(wire, [cut])
      expect(p.body.equals(payload)).toBe(true)
      expect(p.ends).toBe(1)
      expect(p.heads[0]?.status).toBe(200)
      expect(p.heads[0]?.headers.get('x-a')).toBe('1, 2')
    }
    // Many small pieces too.
    const cuts = Array.from({ length: Math.floor(wire.length / 7) }, (_, i) => (i + 1) * 7)
    expect(parse(wire, cuts).body.equals(payload)).toBe(true)
  })

  it('a chunked body counts payload bytes only (no sizes, extensions, CRLFs or trailers), cut anywhere', () => {
    const wire = chunked(payload, [1, 16, 1000, 983, 1000], 'X-Trailer: yes\r\n')
    for (let cut = 1; cut < wire.length; cut += 13) {
      const p = parse(wire, [cut, Math.min(wire.length, cut + 5)])
      expect(p.body.length).toBe(payload.length)
      expect(p.body.equals(payload)).toBe(true)
      expect(p.ends).toBe(1)
      expect(p.consumed).toBe(wire.length)
    }
  })

  it('skips 100 Continue, and 204, 304 and HEAD responses have no body', () => {
    const wire = Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n')
    const p = parse(wire)
    expect(p.heads.map((h) => h.status)).toEqual([204])
    expect(p.ends).toBe(1)
    expect(parse(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n'), [], { noBody: true }).ends).toBe(1)
  })

  it('says where a response ends inside a buffer, so extra bytes are not taken for payload', () => {
    const wire = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n')
    const p = parse(wire)
    expect(p.body.toString()).toBe('ok')
    expect(p.consumed).toBe(wire.length - 'HTTP/1.1 200 OK\r\n'.length)
  })

  it('a body without length ends with the connection; a cut-short body is an error', () => {
    const r1 = new ResponseReader({ onEnd: () => {} })
    r1.feed(Buffer.from('HTTP/1.1 200 OK\r\n\r\nabc'))
    r1.eof()
    expect(r1.done).toBe(true)
    const r2 = new ResponseReader({ onEnd: () => {} })
    r2.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab'))
    expect(() => { r2.eof() }).toThrow(/inside the response body/)
  })

  it.each([
    ['ICY 200 OK\r\n\r\n', /status line/],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n', /content-length/],
    ['HTTP/1.1 200 OK\r\nbad header\r\n\r\n', /malformed header/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /not hexadecimal/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX', /CRLF/]
  ])('refuses %j', (text, message) => {
    const r = new ResponseReader({ onEnd: () => {} })
    expect(() => r.feed(Buffer.from(text))).toThrow(ResponseFramingError)
    expect(() => new ResponseReader({ onEnd: () => {} }).feed(Buffer.from(text))).toThrow(message)
  })
})

describe('measurement connection against real loopback servers', () => {
  const closers: Array<() => void> = []
  afterEach(() => { for (const c of closers.splice(0)) c() })

  async function listen (server: net.Server): Promise<string> {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    closers.push(() => { server.close(); if (server instanceof http.Server) server.closeAllConnections() })
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  it('runs requests one after another on one keep-alive connection, chunked and sized', async () => {
    const ports = new Set<number>()
    const encodings = new Set<string | undefined>()
    const origin = await listen(http.createServer((req, res) => {
      ports.add(req.socket.remotePort as number)
      encodings.add(req.headers['accept-encoding'])
      if (req.url === '/chunked') { res.write(payload.subarray(0, 1000)); res.end(payload.subarray(1000)) } else res.end(payload)
    }))
    const conn = await Http1Connection.open(origin)
    let counted = 0
    for (const path of ['/sized', '/chunked', '/sized', '/chunked']) {
      const res = await conn.request({ method: 'GET', path, onBody: (b) => { counted += b.length } })
      expect(res.status).toBe(200)
    }
    expect(counted).toBe(4 * payload.length)
    expect(ports.size).toBe(1)
    // Nothing on the way may compress what is counted.
    expect([...encodings]).toEqual(['identity'])
    expect(conn.info.family).toBe(4)
    conn.close()
  })

  it('sends a chunked upload body that the server receives byte for byte, then reads the reply', async () => {
    let received = Buffer.alloc(0)
    const origin = await listen(http.createServer((req, res) => {
      const parts: Buffer[] = []
      req.on('data', (d: Buffer) => parts.push(d))
      req.on('end', () => { received = Buffer.concat(parts); res.end(JSON.stringify({ bytes: received.length })) })
    }))
    const conn = await Http1Connection.open(origin)
    const res = await conn.request({
      method: 'POST',
      path: '/upload',
      collect: true,
      body: async (write) => { for (let i = 0; i < 3; i++) await write.chunk(payload.subarray(i * 1000, (i + 1) * 1000)) }
    })
    expect(JSON.parse(res.body.toString())).toEqual({ bytes: payload.length })
    expect(received.equals(payload)).toBe(true)
    // The connection is still good for the next request.
    expect((await conn.request({ method: 'POST', path: '/upload', collect: true, body: async () => {} })).body.toString()).toBe('{"bytes":0}')
    conn.close()
  })

  it('a 503 that arrives while the body is still being written stops the writer and gives the Retry-After', async () => {
    const origin = await listen(http.createServer((_req, res) => {
      res.writeHead(503, { 'retry-after': '7' }).end('busy')
    }))
    const conn = await Http1Connection.open(origin)
    let written = 0
    const res = await conn.request({
      method: 'POST',
      path: '/upload',
      collect: true,
      body: async (write, done) => { while (!done.aborted) { await write.chunk(payload); written += payload.length } }
    })
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('7')
    expect(written).toBeLessThan(100 * 1024 * 1024)
    // Its body was never finished, so the connection is not reused.
    expect(conn.usable).toBe(false)
  })

  it('fails a request when the server closes inside the body, and drops a connection that sent bytes nobody asked for', async () => {
    const cut = await listen(net.createServer((s) => { s.once('data', () => { s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..') }) }))
    const c1 = await Http1Connection.open(cut)
    await expect(c1.request({ method: 'GET', path: '/' })).rejects.toThrow(/inside the response body/)
    expect(c1.usable).toBe(false)

    const extra = await listen(net.createServer((s) => { s.once('data', () => { s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokJUNK') }) }))
    const c2 = await Http1Connection.open(extra)
    // The response itself was whole; the junk after it makes the connection unusable.
    expect((await c2.request({ method: 'GET', path: '/', collect: true })).body.toString()).toBe('ok')
    expect(c2.usable).toBe(false)
    await expect(c2.request({ method: 'GET', path: '/' })).rejects.toThrow(/more than its response/)
  })

  it('times out a server that accepts and never answers, and aborts on the signal', async () => {
    const origin = await listen(net.createServer(() => {}))
    const slow = await Http1Connection.open(origin, { timeoutMs: 200 })
    await expect(slow.request({ method: 'GET', path: '/' })).rejects.toThrow(/no data .* for 200 ms/)
    const conn = await Http1Connection.open(origin)
    const ac = new AbortController()
    setTimeout(() => { ac.abort() }, 50)
    await expect(conn.request({ method: 'GET', path: '/', signal: ac.signal })).rejects.toThrow(/aborted/)
  })

  it('speaks HTTP/1.1 over TLS, trusting a private CA only when given it', async () => {
    const cert = selfSignedCert({ names: ['127.0.0.1'] })
    const server = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      if (req.url === '/chunked') { res.write(payload.subarray(0, 10)); res.end(payload.subarray(10)) } else res.end(payload)
    })
    const origin = (await listen(server)).replace('http:', 'https:')
    await expect(Http1Connection.open(origin)).rejects.toThrow(/self[- ]signed|unable to verify/i)
    const conn = await Http1Connection.open(origin, { ca: cert.cert })
    let counted = 0
    for (const path of ['/sized', '/chunked']) {
      expect((await conn.request({ method: 'GET', path, onBody: (b) => { counted += b.length } })).status).toBe(200)
    }
    expect(counted).toBe(2 * payload.length)
    conn.close()
    // What the agent's docs tell an agency with a private CA to do: NODE_EXTRA_CA_CERTS.
    const dir = mkdtempSync(join(tmpdir(), 'tocdo-ca-'))
    writeFileSync(join(dir, 'ca.pem'), cert.cert)
    const script = `const { Http1Connection } = await import('./agent/measure/http1.ts'); const c = await Http1Connection.open(${JSON.stringify(origin)}); console.log((await c.request({ method: 'GET', path: '/sized' })).status); c.close()`
    const out = await execFileP(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') } })
    expect(out.stdout.trim()).toBe('200')
  })

  it('refuses a forced family that cannot reach the address, without connecting', async () => {
    await expect(Http1Connection.open('http://127.0.0.1:9', { family: 6 })).rejects.toMatchObject({ code: 'EAFNOSUPPORT' })
  })
})
