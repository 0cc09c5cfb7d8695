import net from 'node:net'
import tls from 'node:tls'
import { familyMismatch, familyOf, type ConnectionInfo } from './connection-info.js'
import { ResponseReader, type ResponseHead } from './response-reader.js'

/**
 * One HTTP/1.1 keep-alive connection for measurement traffic: one request at a time, never
 * pipelined or multiplexed (methodology.md §1). A general HTTP client allocates a new buffer
 * for every socket read, which waits for the garbage collector: over 16 streams that held
 * ~35 MB more peak memory at 1 Gbit/s and ~90 MB at loopback speed, and it halved the loopback
 * ceiling (bench/accuracy). Plain TCP connections here read into one buffer per connection,
 * reused for every read (`net.connect`'s `onread`), so the bytes a download counts are never
 * copied.
 */

export interface Http1ConnectOptions {
  /** Force the address family; undefined lets the OS (and Node's happy eyeballs) choose. Never falls back. */
  family?: 4 | 6
  /** Connect timeout, and the longest a request may wait without a byte moving, ms. */
  timeoutMs?: number
  onConnect?: (info: ConnectionInfo) => void
  /** Monotonic clock for `sentAt` and `endedAt`, ms; default `performance.now`. */
  now?: () => number
  /**
   * Certificates to trust for https besides the system's and `NODE_EXTRA_CA_CERTS` (for a
   * caller that holds a private CA itself; the agent's own commands use the environment).
   */
  ca?: string | Buffer
}

export interface Http1Request {
  method: 'GET' | 'POST'
  path: string
  headers?: Record<string, string>
  /**
   * Writes a chunked request body (the upload). It must stop when `done` aborts: the
   * server answered early, or the connection failed.
   */
  body?: (write: BodyWriter, done: AbortSignal) => Promise<void>
  /** The response head, before any of its body. */
  onHead?: (head: ResponseHead) => void
  /** Payload bytes as they arrive (a view, valid only during the call). */
  onBody?: (bytes: Buffer) => void
  /** Keep the response body (small responses only). */
  collect?: boolean
  signal?: AbortSignal
}

export interface Http1Response extends ResponseHead {
  body: Buffer
  /** When the request head was handed to the socket, on the connection's clock. */
  sentAt: number
  /**
   * When the read that completed the response returned, on the connection's clock: taken
   * before any parsing, so a ping's time holds as little of the agent's own work as possible.
   */
  endedAt: number
}

/** Chunked-body writer with the socket's back-pressure. */
export interface BodyWriter {
  /** Writes one chunk; resolves when the socket can take more. */
  chunk: (bytes: Buffer) => Promise<void>
}

const READ_BUFFER_BYTES = 64 * 1024

export class Http1Connection {
  readonly info: ConnectionInfo
  readonly #sock: net.Socket
  readonly #host: string
  readonly #timeoutMs: number
  readonly #now: () => number
  #readAt = 0
  #reader: ResponseReader | null = null
  #fail: ((err: Error) => void) | null = null
  #closed: Error | null = null

  private constructor (sock: net.Socket, host: string, timeoutMs: number, now: () => number) {
    this.#sock = sock
    this.#host = host
    this.#timeoutMs = timeoutMs
    this.#now = now
    const ra = sock.remoteAddress
    this.info = { localAddress: sock.localAddress ?? null, remoteAddress: ra ?? null, family: familyOf(ra) }
    sock.on('timeout', () => { sock.destroy(Object.assign(new Error(`no data from ${host} for ${timeoutMs} ms`), { code: 'ETIMEDOUT' })) })
    sock.on('error', (err) => { this.#closed ??= err })
    sock.on('end', () => { this.#onEof() })
    sock.on('close', () => {
      this.#closed ??= new Error('connection closed by the server')
      this.#fail?.(this.#closed)
    })
  }

  static async open (origin: string | URL, opts: Http1ConnectOptions = {}): Promise<Http1Connection> {
    const u = new URL(origin)
    const https = u.protocol === 'https:'
    const host = u.hostname.replace(/^\[|\]$/g, '')
    const port = Number(u.port === '' ? (https ? 443 : 80) : u.port)
    const mismatch = familyMismatch(host, opts.family)
    if (mismatch !== null) throw mismatch
    const timeoutMs = opts.timeoutMs ?? 10_000
    const base = { host, port, noDelay: true, ...(opts.family === undefined ? {} : { family: opts.family, autoSelectFamily: false }) }
    // Bytes are delivered to the connection object once it exists; before that nothing has
    // been requested, so a server has nothing to send.
    let deliver: (bytes: Buffer) => void = () => {}
    let sock: net.Socket
    if (https) {
      // TLS sockets take no `onread`; their reads are decrypted into fresh buffers anyway.
      sock = tls.connect({ ...base, ...(net.isIP(host) === 0 ? { servername: host } : {}), ALPNProtocols: ['http/1.1'], ...(opts.ca === undefined ? {} : { ca: [...tls.rootCertificates, opts.ca.toString()] }) })
      sock.on('data', (d: Buffer) => { deliver(d) })
    } else {
      const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES)
      sock = net.connect({ ...base, onread: { buffer: readBuffer, callback: (n) => { deliver(readBuffer.subarray(0, n)); return true } } })
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { sock.destroy(); reject(Object.assign(new Error(`connect to ${u.host} timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' })) }, timeoutMs)
      const failed = (err: Error): void => { clearTimeout(timer); reject(err) }
      sock.once(https ? 'secureConnect' : 'connect', () => { clearTimeout(timer); sock.removeListener('error', failed); resolve() })
      sock.once('error', failed)
    })
    const conn = new Http1Connection(sock, u.host, timeoutMs, opts.now ?? (() => performance.now()))
    deliver = (bytes) => { conn.#onBytes(bytes) }
    opts.onConnect?.(conn.info)
    return conn
  }

  /** False once the server or an error closed the connection. */
  get usable (): boolean { return this.#closed === null && !this.#sock.destroyed }

  async request (req: Http1Request): Promise<Http1Response> {
    if (this.#reader !== null) throw new Error('a request is already in flight on this connection')
    if (!this.usable) throw this.#closed ?? new Error('connection is closed')
    if (req.signal?.aborted === true) throw abortError()
    const sock = this.#sock
    const parts: Buffer[] = []
    let head: ResponseHead | null = null
    const done = req.body === undefined ? null : new AbortController()
    let sentAt = 0
    let bodySent = req.body === undefined
    return await new Promise<Http1Response>((resolve, reject) => {
      const settle = (err: Error | null): void => {
        this.#reader = null
        this.#fail = null
        sock.setTimeout(0)
        req.signal?.removeEventListener('abort', onAbort)
        done?.abort()
        // A reply before the whole body was sent (a 503, say) leaves the request unfinished.
        if (!bodySent) sock.destroy()
        if (err !== null || head === null) { reject(err ?? new Error('response without a head')); return }
        if (/(^|,)\s*close\s*$/i.test(head.headers.get('connection') ?? '')) sock.end()
        resolve({ ...head, body: parts.length === 1 ? parts[0] as Buffer : Buffer.concat(parts), sentAt, endedAt: this.#readAt })
      }
      const onAbort = (): void => { sock.destroy(); settle(abortError()) }
      this.#fail = (err) => { settle(err) }
      this.#reader = new ResponseReader({
        onHead: (h) => { head = h; req.onHead?.(h) },
        onBody: req.collect === true ? (b) => { parts.push(Buffer.from(b)) } : req.onBody,
        onEnd: () => { settle(null) }
      })
      req.signal?.addEventListener('abort', onAbort, { once: true })
      // Bodies are counted or parsed as sent: never compressed on the way (a proxy might).
      const lines = [`${req.method} ${req.path} HTTP/1.1`, `Host: ${this.#host}`, 'Accept-Encoding: identity']
      for (const [k, v] of Object.entries(req.headers ?? {})) lines.push(`${k}: ${v}`)
      if (done !== null) lines.push('Transfer-Encoding: chunked')
      const headText = `${lines.join('\r\n')}\r\n\r\n`
      sentAt = this.#now()
      sock.write(headText)
      sock.setTimeout(this.#timeoutMs)
      if (done !== null && req.body !== undefined) {
        req.body(chunkWriter(sock, done.signal), done.signal).then(
          () => { if (!done.signal.aborted) { bodySent = true; sock.write('0\r\n\r\n') } },
          (err: unknown) => { if (!done.signal.aborted) { sock.destroy(); settle(err instanceof Error ? err : new Error(String(err))) } }
        )
      }
    })
  }

  close (): void { this.#sock.destroy() }

  #onBytes (bytes: Buffer): void {
    this.#readAt = this.#now()
    const reader = this.#reader
    if (reader === null) {
      // Nothing was asked: bytes here mean the server and agent disagree on framing.
      this.#sock.destroy(Object.assign(new Error('unexpected bytes from the server between responses'), { code: 'HPE_INVALID_RESPONSE' }))
      return
    }
    try {
      const used = reader.feed(bytes)
      if (used < bytes.length) throw Object.assign(new Error('the server sent more than its response'), { code: 'HPE_INVALID_RESPONSE' })
    } catch (err) {
      this.#sock.destroy(err as Error)
    }
  }

  #onEof (): void {
    try { this.#reader?.eof() } catch (err) { this.#closed ??= err as Error }
    this.#closed ??= new Error('connection closed by the server')
    this.#sock.destroy()
  }
}

function chunkWriter (sock: net.Socket, done: AbortSignal): BodyWriter {
  return {
    chunk: async (bytes) => {
      if (done.aborted || bytes.length === 0) return
      // One corked write of size line, payload and CRLF: the payload is a view, never copied.
      sock.cork()
      sock.write(`${bytes.length.toString(16)}\r\n`)
      const more = sock.write(bytes)
      sock.write('\r\n')
      sock.uncork()
      if (more) return
      await new Promise<void>((resolve) => {
        const go = (): void => { sock.removeListener('drain', go); done.removeEventListener('abort', go); resolve() }
        sock.on('drain', go)
        done.addEventListener('abort', go, { once: true })
      })
    }
  }
}

function abortError (): Error {
  return Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ABORT_ERR' })
}
