import { buildConnector, Client } from 'undici'
import { isIP } from 'node:net'

/** What one connection looked like from the agent's side. */
export interface ConnectionInfo {
  localAddress: string | null
  remoteAddress: string | null
  family: 4 | 6 | null
}

function familyOf (address: string | undefined): 4 | 6 | null {
  if (address === undefined) return null
  if (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) return 4
  const f = isIP(address)
  return f === 4 || f === 6 ? f : null
}

export interface ConnectOptions {
  /** Force the address family; undefined lets the OS (and Node's happy eyeballs) choose. Never falls back. */
  family?: 4 | 6
  /** Called once per new TCP connection, with its addresses. */
  onConnect?: (info: ConnectionInfo) => void
}

/**
 * One undici Client per TCP connection, with Nagle off and an optional forced family. With
 * `pipelining: 1` and one Client per stream, every stream is its own TCP connection: never
 * HTTP/2 or one multiplexed connection for load (methodology.md §1).
 */
export function newConnectionClient (origin: string, opts: ConnectOptions & { timeoutMs?: number } = {}): Client {
  const base = buildConnector({
    noDelay: true,
    ...(opts.family === undefined ? {} : { family: opts.family, autoSelectFamily: false }),
    timeout: opts.timeoutMs ?? 10_000
  })
  const connect: buildConnector.connector = (options, callback) => {
    const mismatch = familyMismatch(options.hostname, opts.family)
    if (mismatch !== null) { callback(mismatch, null); return }
    base(options, (...args) => {
      const [err, socket] = args
      if (err === null && opts.onConnect !== undefined) {
        opts.onConnect({ localAddress: socket.localAddress ?? null, remoteAddress: socket.remoteAddress ?? null, family: familyOf(socket.remoteAddress) })
      }
      callback(...args)
    })
  }
  return new Client(origin, {
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
    connect
  })
}

/**
 * A forced family cannot reach a literal of the other family; Node would connect to the
 * literal anyway, silently using the wrong family. Refuse instead (methodology.md §10).
 */
export function familyMismatch (hostname: string, family: 4 | 6 | undefined): Error | null {
  if (family === undefined) return null
  const literal = isIP(hostname.replace(/^\[|\]$/g, ''))
  if (literal === 0 || literal === family) return null
  return Object.assign(new Error(`${hostname} is an IPv${literal} address; it cannot be reached over forced IPv${family}`), { code: 'EAFNOSUPPORT' })
}
