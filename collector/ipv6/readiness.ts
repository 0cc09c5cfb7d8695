import type { CheckName, Colour } from './checks.js'
import type { NetworkState } from './network-state.js'

/**
 * Readiness levels (domain.md §6.3). "ready" = NS over IPv6 and HTTPS over IPv6 pass and the
 * agency network works; "ready_plus" adds mail over IPv6 (or no mail service) and DNSSEC.
 */
export const LEVELS = ['ready_plus', 'ready', 'partial', 'none', 'unknown'] as const
export type Level = typeof LEVELS[number]

const BADNESS: Record<Colour, number> = { gray: 0, green: 1, yellow: 2, red: 3 }

/** An agency's colour for a check over its targets (portal and public-service host): the worst, gray only if all gray. */
export function worstColour (colours: readonly Colour[]): Colour | null {
  if (colours.length === 0) return null
  return colours.reduce((a, b) => BADNESS[b] > BADNESS[a] ? b : a)
}

export type ServiceColours = Record<CheckName, Colour | null>

export function readinessLevel (network: NetworkState, services: ServiceColours): Level {
  const probed = Object.values(services).some((c) => c !== null)
  if (!probed && network.works === 'unknown' && network.capable === null) return 'unknown'
  const ready = services.ns_v6 === 'green' && services.https_v6 === 'green' && network.works === 'works'
  if (ready) {
    const mailOk = services.mx_v6 === 'green' || services.mx_v6 === 'gray'
    return mailOk && services.dnssec === 'green' ? 'ready_plus' : 'ready'
  }
  const someIpv6 = network.works === 'works' || network.capable === true ||
    (['web_aaaa', 'https_v6', 'ns_v6', 'mx_v6'] as const).some((k) => services[k] === 'green' || services[k] === 'yellow')
  return someIpv6 ? 'partial' : 'none'
}
