import type { AgencyServices, Ipv6Store } from '../storage/stores.js'

/** An agency's public service names, and one stored check of a prober run (storage/stores.ts). */
export type { AgencyServices, StoredCheck } from '../storage/stores.js'

/** Host names are stored lowercased without a trailing dot, so checks and reports match. */
export function normaliseHost (name: string | null | undefined): string | null {
  if (name === null || name === undefined) return null
  const n = name.trim().toLowerCase().replace(/\.$/, '')
  return n === '' ? null : n
}

/** Stores an agency's service names, normalised, and returns them as stored. */
export async function setAgencyServices (ipv6: Pick<Ipv6Store, 'setServices'>, input: Omit<AgencyServices, 'updatedAt'>, now = Date.now()): Promise<AgencyServices> {
  const row: AgencyServices = {
    agencyId: input.agencyId,
    portalHost: normaliseHost(input.portalHost),
    publicServiceHost: normaliseHost(input.publicServiceHost),
    mailDomain: normaliseHost(input.mailDomain),
    dnsZone: normaliseHost(input.dnsZone),
    updatedAt: now
  }
  await ipv6.setServices(row)
  return row
}
