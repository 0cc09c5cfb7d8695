import type { Db } from '../storage/db.js'
import { AREA_LEVELS, provinceLevelOf } from '../storage/area-levels.js'
import { ONLINE_MAX_S, STALE_MAX_S, type AgentHealthState } from '../../shared/schemas/fleet.js'
import { agentState } from '../fleet/health.js'
import { isOutdated } from '../fleet/versions.js'

export interface AgentHealthRow {
  id: string
  /** The first 8 characters of the id: what `tocdo-agent status` shows; hostnames stay behind the admin API. */
  label: string
  agencyId: string
  agencyName: string
  communeCode: string
  communeName: string | null
  legacyDistrictCode: string | null
  legacyDistrictName: string | null
  status: 'active' | 'revoked' | 'decommissioned'
  /** From the last sync (heartbeat), as the admin API computes it (fleet-protocol.md §11). */
  state: AgentHealthState
  lastSyncAt: string | null
  /** Last authenticated request of any kind (sync or a results upload). */
  lastSeenAt: string | null
  agentVersion: string | null
  /** Operating system the agent reported at enrolment (e.g. "win32 10.0.22631", "linux 6.1.0"). */
  os: string | null
  /** Older than the newest version this collector knows (its own or its packages'); null when unknown. */
  outdated: boolean | null
  lastResultAt: string | null
  results24h: number
  results7d: number
}

export interface AgentHealthReport {
  generatedAt: string
  thresholds: { onlineMaxS: number, staleMaxS: number }
  /** The version agents are compared with (outdated); null when none is known. */
  newestVersion: string | null
  /** Active agents only: revoked and decommissioned agents are listed but not counted. */
  counts: Record<AgentHealthState, number>
  agents: AgentHealthRow[]
}

export interface AgentHealthFilter {
  /** Province code in the given geography version ('2025-03' = former province, '2025-07' = current). */
  province?: { version: '2025-03' | '2025-07', code: string }
  agencyId?: string
}

const iso = (ms: number | null): string | null => ms === null ? null : new Date(ms).toISOString()

/**
 * The public, read-only view of agent health for the dashboard: no tokens, addresses or
 * host details (those stay behind the admin API), just what an agency's IT staff need to
 * see that their agent reports.
 */
export function agentHealthReport (db: Db, filter: AgentHealthFilter, now = Date.now(), newest: string | null = null): AgentHealthReport {
  const where: string[] = []
  const params: Record<string, unknown> = { day: now - 86_400_000, week: now - 7 * 86_400_000, communeVersion: AREA_LEVELS.commune.version, districtVersion: AREA_LEVELS.legacy_district.version }
  if (filter.province !== undefined) {
    where.push(`g.${provinceLevelOf(filter.province.version).provinceColumn} = @province`)
    params.province = filter.province.code
  }
  if (filter.agencyId !== undefined) {
    where.push('g.id = @agencyId')
    params.agencyId = filter.agencyId
  }
  const rows = db.prepare(`SELECT a.id, substr(a.id, 1, 8) AS label, a.agency_id AS agencyId, g.name AS agencyName, g.commune_code AS communeCode,
      c.name AS communeName, g.legacy_district_code AS legacyDistrictCode, d.name AS legacyDistrictName,
      a.status, a.last_sync_at AS lastSyncAt, a.last_seen_at AS lastSeenAt, a.agent_version AS agentVersion, a.os AS os,
      (SELECT max(r.received_at) FROM result r WHERE r.agent_id = a.id) AS lastResultAt,
      (SELECT count(*) FROM result r WHERE r.agent_id = a.id AND r.received_at >= @day) AS results24h,
      (SELECT count(*) FROM result r WHERE r.agent_id = a.id AND r.received_at >= @week) AS results7d
    FROM agent a JOIN agency g ON g.id = a.agency_id
    LEFT JOIN geo_commune c ON c.version = @communeVersion AND c.code = g.commune_code
    LEFT JOIN geo_district d ON d.version = @districtVersion AND d.code = g.legacy_district_code
    ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''}
    ORDER BY g.name, a.created_at, a.id`).all(params) as Array<Omit<AgentHealthRow, 'state' | 'lastSyncAt' | 'lastSeenAt' | 'lastResultAt' | 'outdated'> & { lastSyncAt: number | null, lastSeenAt: number | null, lastResultAt: number | null }>

  const counts: Record<AgentHealthState, number> = { online: 0, stale: 0, offline: 0, never: 0 }
  const agents = rows.map((r) => {
    const state = agentState(r.lastSyncAt, now)
    if (r.status === 'active') counts[state]++
    return { ...r, state, outdated: isOutdated(r.agentVersion, newest), lastSyncAt: iso(r.lastSyncAt), lastSeenAt: iso(r.lastSeenAt), lastResultAt: iso(r.lastResultAt) }
  })
  return { generatedAt: new Date(now).toISOString(), thresholds: { onlineMaxS: ONLINE_MAX_S, staleMaxS: STALE_MAX_S }, newestVersion: newest, counts, agents }
}
