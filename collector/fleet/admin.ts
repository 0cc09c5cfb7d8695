import type { Db } from '../storage/db.js'
import type { Agency, AgencyStore, AgentDetail } from '../storage/agency-store.js'
import type { Enrolment } from './enrolment.js'
import { placeIn, placementCodes, placementIndex } from '../geo/placement.js'
import { sqliteGeo } from '../storage/sqlite/geo.js'
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
 * Places an agency in both geographies and stores it, with the candidate districts when the
 * legacy district is ambiguous. An ambiguous (or unresolvable) new commune refuses it.
 */
export function createPlacedAgency (db: Db, agencies: AgencyStore, req: NewAgencyRequest, now = Date.now()): { agency: Agency, candidates: string[] } {
  const place = placeIn(placementIndex(sqliteGeo.placementRows(db, placementCodes(req))), {
    communeCode: req.communeCode,
    scheme: req.scheme,
    legacyCommuneCode: req.legacyCommuneCode ?? null,
    newCommuneCode: req.newCommuneCode ?? null
  })
  if (place.communeCode === null || place.provinceCode === null) {
    throw new TocdoError('TOCDO_ERR_VALIDATION', `${place.note} (newCommuneCode: one of ${place.ambiguous?.candidates.join(', ') ?? '?'})`, { details: { field: 'newCommuneCode' } })
  }
  const candidates = place.ambiguous?.candidates ?? []
  const agency = agencies.createAgency({
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
    highTechZone: req.highTechZone === undefined || req.highTechZone === null ? null : req.highTechZone.trim()
  }, now)
  agencies.setPlacementCandidates(agency.id, candidates)
  return { agency, candidates }
}

/** Creates an agency placed in both geographies and issues its first enrolment code, in one transaction. */
export function addAgency (db: Db, agencies: AgencyStore, enrolment: Enrolment, req: NewAgencyRequest, now = Date.now()): NewAgencyReply {
  return db.transaction(() => {
    const { agency, candidates } = createPlacedAgency(db, agencies, req, now)
    const code = enrolment.issue(agency.id, now)
    return { agency: agencyView(agency, candidates), enrolment: { code: code.code, expiresAt: new Date(code.expiresAt).toISOString() } }
  })()
}
