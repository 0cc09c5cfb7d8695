/**
 * An agency network's IPv6 state from its agents' results (domain.md §6.1, fleet-protocol.md
 * §14), with RIPE Atlas's three-state logic for "works": at least one successful IPv6
 * connection in the window = works; IPv6 results present but all failed = doesnt_work; no
 * IPv6 results = unknown.
 */

export type WorksState = 'works' | 'doesnt_work' | 'unknown'

export interface NetworkState {
  capable: boolean | null
  works: WorksState
  preferred: boolean | null
  /** Results that said something about IPv6 in the window. */
  results: number
  windowFrom: string | null
  windowTo: string | null
}

/** What one result says (shared/ipv6-evidence.ts reads it from the record): each true, false or null (says nothing). */
export interface Observation { at: number, capable: boolean | null, connected: boolean | null, preferred: boolean | null }

/**
 * The observations of a window summed up: the last one's time, how many said something, and per
 * question true if any said yes, false if all that answered said no, null if none answered.
 * Stores sum the evidence they keep to this (Ipv6PeriodRows.networks).
 */
export interface WindowEvidence { last: number, results: number, capable: boolean | null, connected: boolean | null, preferred: boolean | null }

/** The network state a window's evidence gives. */
export function networkStateOf (e: WindowEvidence, windowMs: number): NetworkState {
  return {
    capable: e.capable,
    works: e.connected === null ? 'unknown' : e.connected ? 'works' : 'doesnt_work',
    preferred: e.preferred,
    results: e.results,
    windowFrom: new Date(e.last - windowMs).toISOString(),
    windowTo: new Date(e.last).toISOString()
  }
}

/** Evaluates the observations within `windowMs` before the latest one. */
export function evaluateNetwork (observations: readonly Observation[], windowMs: number): NetworkState {
  const read = observations.filter((r) => r.capable !== null || r.connected !== null || r.preferred !== null)
  if (read.length === 0) return { capable: null, works: 'unknown', preferred: null, results: 0, windowFrom: null, windowTo: null }
  const last = Math.max(...read.map((r) => r.at))
  const inWindow = read.filter((r) => r.at > last - windowMs)
  const any = (key: 'capable' | 'connected' | 'preferred'): boolean | null => {
    const seen = inWindow.map((r) => r[key]).filter((v): v is boolean => v !== null)
    return seen.length === 0 ? null : seen.includes(true)
  }
  return networkStateOf({ last, results: inWindow.length, capable: any('capable'), connected: any('connected'), preferred: any('preferred') }, windowMs)
}
