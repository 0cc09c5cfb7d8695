import { isIP } from 'node:net'

/** What one connection looked like from the agent's side. */
export interface ConnectionInfo {
  localAddress: string | null
  remoteAddress: string | null
  family: 4 | 6 | null
}

/** The family of a peer address, with IPv4-mapped IPv6 addresses counted as IPv4. */
export function familyOf (address: string | undefined): 4 | 6 | null {
  if (address === undefined) return null
  if (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) return 4
  const f = isIP(address)
  return f === 4 || f === 6 ? f : null
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
