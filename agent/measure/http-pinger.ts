import { PATHS } from '../../shared/protocol.js'
import type { ProbeClock } from './context.js'
import type { ConnectionInfo } from './connection-info.js'
import { Http1Connection } from './http1.js'

/**
 * HTTP pings (`GET /ping`) on one keep-alive connection. The time runs from the moment the
 * request is handed to the socket to the return of the read that completed the reply, on the
 * measurement connection rather than a general HTTP client: latency probes should carry as
 * little of the agent's own time as possible (a general client's queueing and parsing added
 * about 0.6 ms per ping when we measured it).
 */
export class HttpPinger {
  #conn: Http1Connection | null = null
  /** The clock of the latest ping's caller; the connection reads it at each socket read. */
  #clockNow: () => number = () => performance.now()
  readonly #now = (): number => this.#clockNow()
  readonly #origin: string
  readonly #opts: { family?: 4 | 6, timeoutMs: number, onConnect?: (info: ConnectionInfo) => void, headers: Record<string, string> }

  constructor (origin: string, opts: { family?: 4 | 6, timeoutMs?: number, onConnect?: (info: ConnectionInfo) => void, headers?: Record<string, string> } = {}) {
    this.#origin = origin
    this.#opts = { ...opts, timeoutMs: opts.timeoutMs ?? 10_000, headers: opts.headers ?? {} }
  }

  async #connection (): Promise<Http1Connection> {
    if (this.#conn?.usable === true) return this.#conn
    const { family, timeoutMs, onConnect } = this.#opts
    this.#conn = await Http1Connection.open(this.#origin, { timeoutMs, now: this.#now, ...(family === undefined ? {} : { family }), ...(onConnect === undefined ? {} : { onConnect }) })
    return this.#conn
  }

  /** Opens the connection (not timed). */
  async open (): Promise<void> { await this.#connection() }

  /** One ping, ms: request handed to the socket to the read that completed the reply. Reconnects (untimed) if the server closed the connection. */
  async ping (clock: ProbeClock, signal?: AbortSignal): Promise<number> {
    this.#clockNow = clock.now
    const conn = await this.#connection()
    const res = await conn.request({ method: 'GET', path: PATHS.ping, headers: this.#opts.headers, ...(signal === undefined ? {} : { signal }) })
    if (res.status !== 200 && res.status !== 204) throw new Error(`ping: HTTP ${res.status}`)
    return res.endedAt - res.sentAt
  }

  close (): void { this.#conn?.close(); this.#conn = null }
}
