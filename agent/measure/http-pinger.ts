import net from 'node:net'
import tls from 'node:tls'
import { PATHS } from '../../shared/protocol.js'
import type { ProbeClock } from './context.js'
import { familyMismatch, type ConnectionInfo } from './connector.js'

/**
 * HTTP pings on one keep-alive connection, written and parsed at the socket. A general
 * HTTP client adds its own queueing and parsing to every round trip (on this project's
 * gVisor build machine about 0.7 ms per ping with undici against 0.1 ms here); latency
 * probes should carry as little of the agent's own time as possible, so `GET /ping` is
 * written as one segment and the 0–1 byte reply is parsed by hand.
 */
export class HttpPinger {
  #socket: net.Socket | null = null
  #buf: Buffer = Buffer.alloc(0)
  #waiter: ((err: Error | null) => void) | null = null
  readonly #url: URL
  readonly #opts: { family?: 4 | 6, timeoutMs: number, onConnect?: (info: ConnectionInfo) => void, headers: Record<string, string> }

  constructor (origin: string, opts: { family?: 4 | 6, timeoutMs?: number, onConnect?: (info: ConnectionInfo) => void, headers?: Record<string, string> } = {}) {
    this.#url = new URL(origin)
    this.#opts = { ...opts, timeoutMs: opts.timeoutMs ?? 10_000, headers: opts.headers ?? {} }
  }

  async #connect (): Promise<net.Socket> {
    const u = this.#url
    const https = u.protocol === 'https:'
    const host = u.hostname.replace(/^\[|\]$/g, '')
    const port = Number(u.port === '' ? (https ? 443 : 80) : u.port)
    const family = this.#opts.family
    const mismatch = familyMismatch(host, family)
    if (mismatch !== null) throw mismatch
    const base = { host, port, noDelay: true, ...(family === undefined ? {} : { family, autoSelectFamily: false }) }
    const sock: net.Socket = https ? tls.connect({ ...base, ...(net.isIP(host) === 0 ? { servername: host } : {}), ALPNProtocols: ['http/1.1'] }) : net.connect(base)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { sock.destroy(); reject(Object.assign(new Error(`connect to ${u.host} timed out`), { code: 'ETIMEDOUT' })) }, this.#opts.timeoutMs)
      sock.once(https ? 'secureConnect' : 'connect', () => { clearTimeout(timer); resolve() })
      sock.once('error', (err) => { clearTimeout(timer); reject(err) })
    })
    const ra = sock.remoteAddress
    this.#opts.onConnect?.({ localAddress: sock.localAddress ?? null, remoteAddress: ra ?? null, family: sock.remoteFamily === 'IPv6' ? (ra?.startsWith('::ffff:') === true ? 4 : 6) : sock.remoteFamily === 'IPv4' ? 4 : null })
    sock.on('data', (d: Buffer) => { this.#buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]); this.#check() })
    const gone = (err?: Error): void => {
      if (this.#socket === sock) this.#socket = null
      this.#waiter?.(err ?? new Error('connection closed by the server'))
    }
    sock.on('error', gone)
    sock.on('close', () => { gone() })
    this.#socket = sock
    return sock
  }

  /** Resolves the waiter once a whole response is in the buffer. */
  #check (): void {
    const end = this.#buf.indexOf('\r\n\r\n')
    if (end < 0 || this.#waiter === null) return
    const head = this.#buf.subarray(0, end).toString('latin1')
    const status = Number(head.slice(9, 12))
    const len = /\r\ncontent-length:\s*(\d+)/i.exec(head)
    const bodyLen = status === 204 || status === 304 ? 0 : len === null ? 0 : Number(len[1])
    if (this.#buf.length < end + 4 + bodyLen) return
    this.#buf = this.#buf.subarray(end + 4 + bodyLen)
    const w = this.#waiter
    this.#waiter = null
    if (status !== 200 && status !== 204) w(new Error(`ping: HTTP ${status}`))
    else {
      if (/\r\nconnection:\s*close/i.test(head)) this.#socket?.destroy()
      w(null)
    }
  }

  /** Opens the connection (not timed). */
  async open (): Promise<void> { if (this.#socket === null) await this.#connect() }

  /** One ping: request written to whole reply parsed, ms. Reconnects (untimed) if the server closed the connection. */
  async ping (clock: ProbeClock, signal?: AbortSignal): Promise<number> {
    if (signal?.aborted === true) throw new Error('aborted')
    const sock = this.#socket ?? await this.#connect()
    this.#buf = Buffer.alloc(0)
    const extra = Object.entries(this.#opts.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')
    const req = `GET ${PATHS.ping} HTTP/1.1\r\nHost: ${this.#url.host}\r\nAccept-Encoding: identity\r\n${extra}\r\n`
    return await new Promise<number>((resolve, reject) => {
      const onAbort = (): void => { finish(new Error('aborted')) }
      const timer = setTimeout(() => { finish(Object.assign(new Error('ping timed out'), { code: 'ETIMEDOUT' })) }, this.#opts.timeoutMs)
      const t0 = clock.now()
      const finish = (err: Error | null): void => {
        const rtt = clock.now() - t0
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        this.#waiter = null
        if (err === null) resolve(rtt)
        else reject(err)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#waiter = finish
      sock.write(req)
    })
  }

  close (): void { this.#socket?.destroy(); this.#socket = null }
}
