import type { Agency, AgentDetail, NewAgency, PlacedAgency, Stores } from '../storage/stores.js'
import { placeAgent, type Placement, type PlacementInput } from '../geo/placement.js'
import { enrolmentCodeFor } from './enrolment.js'
import { agentState } from './health.js'
import { TocdoError } from '../../shared/errors.js'
import type { AgencyView, AgentView, NewAgencyReply, NewAgencyRequest } from '../../shared/schemas/fleet.js'
import { isOutdated } from './versions.js'

const iso = (ms: number | null): string | null => ms === null ? null : new Date(ms).toISOString()

export function agencyView (a: Agency, placementCandidates: string[]): AgencyView {
  return {
    id: a.id,
    name: a.name,
    category: a.category,
    connectionClass: a.connectionClass,
    isp: a.isp,
    planDownMbps: a.planDownMbps,
    planUpMbps: a.planUpMbps,
    communeCode: a.communeCode,
    provinceCode: a.provinceCode,
    legacyCommuneCode: a.legacyCommuneCode,
    legacyDistrictCode: a.legacyDistrictCode,
    legacyProvinceCode: a.legacyProvinceCode,
    placementNote: a.placementNote,
    placementCandidates,
    highTechZone: a.highTechZone,
    createdAt: new Date(a.createdAt).toISOString()
  }
}

export function agentView (a: AgentDetail, now: number, newest: string | null = null): AgentView {
  const outdated = isOutdated(a.agentVersion, newest)
  return {
    id: a.id,
    agencyId: a.agencyId,
    agencyName: a.agencyName,
    hostname: a.hostname ?? a.name,
    os: a.os,
    arch: a.arch,
    status: a.status,
    state: agentState(a.lastSyncAt, now),
    lastSeenAt: iso(a.lastSeenAt),
    agentVersion: a.agentVersion,
    ...(outdated === null ? {} : { outdated }),
    configVersion: a.configVersion,
    queuePending: a.queuePending,
    queueOldestAgeS: a.queueOldestAgeS,
    queueDead: a.queueDead,
    clockOffsetMs: a.clockOffsetMs,
    createdAt: new Date(a.createdAt).toISOString()
  }
}

/**
 * The agency to store for a request, from its placement in both geographies, with the
 * candidate districts when the legacy district is ambiguous. An ambiguous (or unresolvable)
 * new commune refuses it.
 */
export function agencyFromPlacement (req: NewAgencyRequest, place: Placement): NewAgency & { placementCandidates: string[] } {
  if (place.communeCode === null || place.provinceCode === null) {
    throw new TocdoError('TOCDO_ERR_VALIDATION', `${place.note} (newCommuneCode: one of ${place.ambiguous?.candidates.join(', ') ?? '?'})`, { details: { field: 'newCommuneCode' } })
  }
  return {
    name: req.name,
    category: req.category,
    connectionClass: req.connectionClass,
    isp: req.isp,
    planDownMbps: req.planDownMbps,
    planUpMbps: req.planUpMbps,
    communeCode: place.communeCode,
    provinceCode: place.provinceCode,
    legacyCommuneCode: place.legacyCommuneCode,
    legacyDistrictCode: place.legacyDistrictCode,
    legacyProvinceCode: place.legacyProvinceCode,
    placementNote: place.note,
    highTechZone: req.highTechZone === undefined || req.highTechZone === null ? null : req.highTechZone.trim(),
    placementCandidates: place.ambiguous?.candidates ?? []
  }
}

export const placementOf = (req: NewAgencyRequest): PlacementInput => ({
  communeCode: req.communeCode,
  scheme: req.scheme,
  legacyCommuneCode: req.legacyCommuneCode ?? null,
  newCommuneCode: req.newCommuneCode ?? null
})

/** The stores placing and keeping an agency. */
export type AgencyStores = Pick<Stores, 'fleet' | 'geo'>

/** Places an agency in both geographies and stores it (the demo and tests; the admin API uses `addAgency`). */
export async function createPlacedAgency ({ fleet, geo }: AgencyStores, req: NewAgencyRequest, now = Date.now()): Promise<PlacedAgency> {
  return await fleet.createAgency(agencyFromPlacement(req, await placeAgent(geo, placementOf(req))), now)
}

/** Creates an agency placed in both geographies with its first enrolment code, in one store transaction. */
export async function addAgency ({ fleet, geo }: AgencyStores, req: NewAgencyRequest, now = Date.now()): Promise<NewAgencyReply> {
  const agency = agencyFromPlacement(req, await placeAgent(geo, placementOf(req)))
  const { code, codeHash, expiresAt } = enrolmentCodeFor(now)
  const stored = await fleet.createAgency(agency, now, { codeHash, expiresAt })
  return { agency: agencyView(stored, stored.placementCandidates), enrolment: { code, expiresAt: new Date(expiresAt).toISOString() } }
}
