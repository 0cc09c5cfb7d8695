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

/** The parts of a result record that say something about IPv6. */
export interface Ipv6Source {
  kind: string
  ipv6: Ipv6Block | null
  serverFamily: number | null
  forcedFamily: number | null
}

export interface Ipv6Block {
  state?: string
  globalAddress?: boolean
  connect6?: boolean | null
  mainTestFamily?: number | null
  preferred?: boolean | null
  checks?: Array<{ name: string, ok: boolean | null }>
}

/** What one result says: each true, false or null (says nothing). */
export interface Observation { at: number, capable: boolean | null, connected: boolean | null, preferred: boolean | null }

const SUCCESS_CHECKS = new Set(['connect6', 'reach_literal', 'reach_name', 'forced_v6_download', 'pmtu'])

/** One result → capable / connected / preferred, each true, false or null (says nothing). */
export function readEvidence (e: Ipv6Source): Omit<Observation, 'at'> {
  let capable: boolean | null = null
  let connected: boolean | null = null
  let preferred: boolean | null = null
  const b = e.ipv6
  if (b !== null) {
    capable = typeof b.globalAddress === 'boolean' ? b.globalAddress : null
    const checks = b.checks ?? []
    const attempted = checks.filter((c) => SUCCESS_CHECKS.has(c.name) && c.ok !== null)
    if (b.connect6 === true || b.state === 'works' || attempted.some((c) => c.ok === true)) connected = true
    // No global address at all is a failed attempt: the agency network cannot use IPv6.
    else if (b.connect6 === false || b.state === 'broken' || b.state === 'none' || attempted.length > 0) connected = false
    const pref = checks.find((c) => c.name === 'preferred')
    if (typeof b.preferred === 'boolean') preferred = b.preferred
    else if (pref !== undefined && pref.ok !== null) preferred = pref.ok
    else if (b.mainTestFamily === 6 || b.mainTestFamily === 4) preferred = b.mainTestFamily === 6
  }
  // A speed test that ran over IPv6 is a working IPv6 connection; when the OS was free to
  // choose the family (not forced), it is also a preference for IPv6 (APNIC "IPv6-preferred").
  if (e.kind === 'speed' && e.serverFamily === 6) {
    connected = true
    if (e.forcedFamily !== 6) preferred ??= true
  }
  return { capable, connected, preferred }
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
  const connected = any('connected')
  return {
    capable: any('capable'),
    works: connected === null ? 'unknown' : connected ? 'works' : 'doesnt_work',
    preferred: any('preferred'),
    results: inWindow.length,
    windowFrom: new Date(last - windowMs).toISOString(),
    windowTo: new Date(last).toISOString()
  }
}
