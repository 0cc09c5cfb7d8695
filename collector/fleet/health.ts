import { ONLINE_MAX_S, STALE_MAX_S, type AgentHealthState } from '../../shared/schemas/fleet.js'

/** online ≤ 900 s since the last sync, stale ≤ 3600 s, offline beyond (fleet-protocol.md §11). */
export function agentState (lastSyncAt: number | null, now: number): AgentHealthState {
  if (lastSyncAt === null) return 'never'
  const ageS = (now - lastSyncAt) / 1000
  if (ageS <= ONLINE_MAX_S) return 'online'
  if (ageS <= STALE_MAX_S) return 'stale'
  return 'offline'
}
