import type { AgentHealthFilter, AgentHealthRecord, HealthReader } from '../storage/stores.js'
import { ONLINE_MAX_S, STALE_MAX_S, type AgentHealthState } from '../../shared/schemas/fleet.js'
import { agentState } from '../fleet/health.js'
import { isOutdated } from '../fleet/versions.js'

export type { AgentHealthFilter } from '../storage/stores.js'

/** One agent on the health page: the store's figures, with times as ISO strings and its state worked out. */
export interface AgentHealthRow extends Pick<AgentHealthRecord, 'id' | 'agencyId' | 'agencyName' | 'communeCode' | 'communeName' | 'legacyDistrictCode' | 'legacyDistrictName' | 'status' | 'agentVersion' | 'os'> {
  /** The first 8 characters of the id: what `tocdo-agent status` shows; hostnames stay behind the admin API. */
  label: string
  /** From the last sync (heartbeat), as the admin API computes it (fleet-protocol.md §11). */
  state: AgentHealthState
  lastSyncAt: string | null
  /** Last authenticated request of any kind (sync or a results upload). */
  lastSeenAt: string | null
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

const iso = (ms: number | null): string | null => ms === null ? null : new Date(ms).toISOString()

/**
 * The public, read-only view of agent health for the dashboard: no tokens, addresses or
 * host details (those stay behind the admin API), just what an agency's IT staff need to
 * see that their agent reports.
 */
export async function agentHealthReport (health: HealthReader, filter: AgentHealthFilter, now = Date.now(), newest: string | null = null): Promise<AgentHealthReport> {
  const rows = await health.agentHealth(filter, { day: now - 86_400_000, week: now - 7 * 86_400_000 })
  const counts: Record<AgentHealthState, number> = { online: 0, stale: 0, offline: 0, never: 0 }
  const agents = rows.map(({ resultsDay, resultsWeek, ...r }): AgentHealthRow => {
    const state = agentState(r.lastSyncAt, now)
    if (r.status === 'active') counts[state]++
    // Keys in the order the report has always had them.
    return {
      id: r.id,
      label: r.id.slice(0, 8),
      agencyId: r.agencyId,
      agencyName: r.agencyName,
      communeCode: r.communeCode,
      communeName: r.communeName,
      legacyDistrictCode: r.legacyDistrictCode,
      legacyDistrictName: r.legacyDistrictName,
      status: r.status,
      lastSyncAt: iso(r.lastSyncAt),
      lastSeenAt: iso(r.lastSeenAt),
      agentVersion: r.agentVersion,
      os: r.os,
      lastResultAt: iso(r.lastResultAt),
      results24h: resultsDay,
      results7d: resultsWeek,
      state,
      outdated: isOutdated(r.agentVersion, newest)
    }
  })
  return { generatedAt: new Date(now).toISOString(), thresholds: { onlineMaxS: ONLINE_MAX_S, staleMaxS: STALE_MAX_S }, newestVersion: newest, counts, agents }
}
