/**
 * A test server speaking the agent's speed-test protocol (download, upload with server-side
 * counts, upload progress, ping, /.well-known/tocdo) whose data path is paced to a known
 * rate by a token bucket shared by all streams, like a bottleneck link. The measured
 * goodput must then come out at that rate. `busy` answers every test request with 503 and
 * Retry-After, like a full server.
 */
import http from 'node:http'
import { randomFillSync } from 'node:crypto'
import { isIP, type AddressInfo } from 'node:net'
import { PATHS, TEST_ID_HEADER } from '../../shared/protocol.js'

export interface ThrottledServerOptions {
  /** Download rate, Mbit/s (payload bytes). */
  downMbps?: number;
  /** Upload rate, Mbit/s (payload bytes read). */
  upMbps?: number;
  /** Answer download/upload with 503 + Retry-After. */
  busy?: { retryAfterS: number };
  /** Extra delay before each ping reply, ms (to order servers by ping). */
  pingDelayMs?: number;
  /**
   * A queue filling on the upload path, as the progress polls see it: each poll's count is
   * read this many ms later per second since the first poll (its reply comes back at once).
   */
  progressQueueGrowthMsPerS?: number;
  /** Leave `atMs` out of the progress replies, like a server of an older version. */
  progressWithoutClock?: boolean;
  host?: string;
}

export interface ThrottledServer {
  url: string;
  /** Test requests refused with 503. */
  refused: number;
  close(): Promise<void>;
}

/**
 * Token bucket refilled from the monotonic clock. It may go negative (a whole chunk is
 * taken at once); the burst cap of 100 ms is generous so a late timer tick loses nothing.
 */
class Bucket {
  tokens = 0
  last = performance.now()
  constructor (readonly bytesPerMs: number) {}
  refill (): void {
    const now = performance.now()
    this.tokens = Math.min(this.tokens + (now - this.last) * this.bytesPerMs, this.bytesPerMs * 100)
    this.last = now
  }
}

export async function startThrottledServer (opts: ThrottledServerOptions = {}): Promise<ThrottledServer> {
  const payload = randomFillSync(Buffer.alloc(4 * 1024 * 1024))
  const down = opts.downMbps === undefined ? null : new Bucket((opts.downMbps * 1e6) / 8 / 1000)
  const up = opts.upMbps === undefined ? null : new Bucket((opts.upMbps * 1e6) / 8 / 1000)
  const progress = new Map<string, number>()
  const writers = new Set<() => void>()
  const readers = new Set<() => void>()
  const state = { refused: 0 }
  let firstPollAt: number | null = null

  // One pacing tick serves every active stream in turn, so they share the rate.
  const tick = setInterval(() => {
    down?.refill()
    up?.refill()
    for (const w of writers) w()
    for (const r of readers) r()
  }, 5)

  const server = http.createServer({ keepAliveTimeout: 30_000, requestTimeout: 0 }, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const testId = req.headers[TEST_ID_HEADER]
    if (url.pathname === PATHS.ping) {
      const reply = (): void => { res.writeHead(204).end() }
      if (opts.pingDelayMs !== undefined) setTimeout(reply, opts.pingDelayMs)
      else reply()
      return
    }
    if (url.pathname === PATHS.info) {
      const a = req.socket.remoteAddress ?? ''
      const fam = a.startsWith('::ffff:') ? 4 : isIP(a)
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ client: { address: a, family: fam === 0 ? null : fam } }))
      return
    }
    if (url.pathname === PATHS.uploadProgress) {
      const t = url.searchParams.get('test') ?? ''
      const answer = (): void => {
        res.writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ test: t, bytes: progress.get(t) ?? 0, ...(opts.progressWithoutClock === true ? {} : { atMs: performance.now() }) }))
      }
      const growth = opts.progressQueueGrowthMsPerS ?? 0
      if (growth === 0) { answer(); return }
      firstPollAt ??= performance.now()
      setTimeout(answer, ((performance.now() - firstPollAt) / 1000) * growth)
      return
    }
    if ((url.pathname === PATHS.download || url.pathname === PATHS.upload) && opts.busy !== undefined) {
      state.refused++
      req.resume()
      res.writeHead(503, { 'retry-after': String(opts.busy.retryAfterS), 'content-type': 'application/json' }).end('{"code":"TOCDO_ERR_SERVER_BUSY"}')
      return
    }
    if (url.pathname === PATHS.download) {
      let left = Number(url.searchParams.get('bytes'))
      let offset = 0
      let blocked = false
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(left) })
      const write = (): void => {
        if (blocked) return
        while (left > 0) {
          let n = Math.min(left, 256 * 1024, payload.length - offset)
          if (down !== null) {
            if (down.tokens <= 0) return
            n = Math.min(n, 64 * 1024)
            down.tokens -= n
          }
          left -= n
          const more = res.write(payload.subarray(offset, offset + n))
          offset = (offset + n) % payload.length
          if (!more) { blocked = true; res.once('drain', () => { blocked = false; if (down === null) write() }); return }
        }
        writers.delete(write)
        res.end()
      }
      res.on('close', () => { writers.delete(write) })
      if (down !== null) writers.add(write)
      else write()
      return
    }
    if (url.pathname === PATHS.upload) {
      const id = typeof testId === 'string' ? testId : ''
      let bytes = 0
      const count = (n: number): void => { bytes += n; progress.set(id, (progress.get(id) ?? 0) + n) }
      if (up === null) {
        req.on('data', (c: Buffer) => { count(c.length) })
      } else {
        // Read only as fast as the bucket allows: pause the request until tokens are back.
        const resume = (): void => { if (up.tokens > 0) { readers.delete(resume); req.resume() } }
        req.on('data', (c: Buffer) => {
          count(c.length)
          up.tokens -= c.length
          if (up.tokens <= 0) { req.pause(); readers.add(resume) }
        })
        res.on('close', () => { readers.delete(resume) })
      }
      req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes })) })
      req.on('error', () => { res.destroy() })
      return
    }
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => { server.listen(0, opts.host ?? '127.0.0.1', resolve) })
  const addr = server.address() as AddressInfo
  return {
    url: `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`,
    get refused () { return state.refused },
    async close () {
      clearInterval(tick)
      server.closeAllConnections()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    },
  }
}
