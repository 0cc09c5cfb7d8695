import type { Direction, ResultRecord, ValidityFlag } from '../../shared/schemas/result.js'

/**
 * Validity flags and confidence (methodology.md §11–§12). Every rule that fires is recorded
 * with the numbers that made it fire; no result is ever dropped for failing one.
 */
export const CLIENT_LIMITED = { processBusyPct: 90, systemBusyPct: 90, eventLoopP99Ms: 50, ceilingShare: 0.8 } as const
/** Cross traffic: interface bytes beyond the test's own > 5 % of them, or > 2 Mbit/s. */
export const CROSS_TRAFFIC = { share: 0.05, mbps: 2 } as const
/** A figure at or above this share of the NIC's link speed means the NIC, not the line, is the limit. */
export const LOCAL_LINK_SHARE = 0.9
/** Shortest steady window for a full-confidence result, seconds. */
export const FULL_WINDOW_S = 6

export class FlagSet {
  readonly flags: ValidityFlag[] = []
  readonly reasons: ResultRecord['flagReasons'] = []
  add (flag: ValidityFlag, reason: string): void {
    if (!this.flags.includes(flag)) this.flags.push(flag)
    this.reasons.push({ flag, reason: reason.slice(0, 500) })
  }
}

const f1 = (v: number): string => (Math.round(v * 10) / 10).toString()

/** client_limited, from the CPU reading of one direction and the calibrated ceiling. */
export function clientLimitedReasons (dir: 'download' | 'upload', d: Direction, ceilingMbps: number | null): string[] {
  const out: string[] = []
  const c = d.cpu
  if (c?.processBusyPct != null && c.processBusyPct >= CLIENT_LIMITED.processBusyPct) out.push(`${dir}: agent process CPU ${f1(c.processBusyPct)} % of a core ≥ ${CLIENT_LIMITED.processBusyPct} %`)
  if (c?.systemBusyPct != null && c.systemBusyPct >= CLIENT_LIMITED.systemBusyPct) out.push(`${dir}: machine CPU ${f1(c.systemBusyPct)} % ≥ ${CLIENT_LIMITED.systemBusyPct} %`)
  if (c?.eventLoopP99Ms != null && c.eventLoopP99Ms >= CLIENT_LIMITED.eventLoopP99Ms) out.push(`${dir}: event-loop delay p99 ${f1(c.eventLoopP99Ms)} ms ≥ ${CLIENT_LIMITED.eventLoopP99Ms} ms`)
  if (ceilingMbps !== null && ceilingMbps > 0 && d.mbps >= CLIENT_LIMITED.ceilingShare * ceilingMbps) {
    out.push(`${dir}: ${f1(d.mbps)} Mbps is ≥ ${CLIENT_LIMITED.ceilingShare * 100} % of this agent's calibrated loopback ceiling ${f1(ceilingMbps)} Mbps`)
  }
  return out
}

/** local_link_limited: the result is at (≥ 90 % of) the NIC's negotiated speed or above it. */
export function localLinkReason (dir: 'download' | 'upload', mbps: number, linkMbps: number | null, iface: string | null): string | null {
  if (linkMbps === null || linkMbps <= 0) return null
  if (mbps < LOCAL_LINK_SHARE * linkMbps) return null
  return `${dir}: ${f1(mbps)} Mbps is ≥ ${LOCAL_LINK_SHARE * 100} % of the ${iface ?? 'local'} link speed ${linkMbps} Mbps`
}

/**
 * cross_traffic: bytes the interface moved beyond what the test itself moved. `testBytes`
 * are payload bytes; the interface also carries headers, ACKs and retransmissions, so the
 * allowance is 5 % of the test bytes (or 2 Mbit/s over the test time, whichever is larger).
 */
export function crossTrafficReason (ifaceBytes: number, testBytes: number, durationS: number): string | null {
  const extra = ifaceBytes - testBytes
  const allowance = Math.max(CROSS_TRAFFIC.share * testBytes, (CROSS_TRAFFIC.mbps * 1e6 / 8) * durationS)
  if (extra <= allowance) return null
  return `interface moved ${ifaceBytes} bytes during the test against ${testBytes} test bytes: ${extra} extra bytes > allowance ${Math.round(allowance)} (5 % of test bytes or 2 Mbit/s)`
}

/** Confidence of one direction (methodology.md §11). */
export function confidenceOf (cv1s: number | null, windowS: number, oneSecondSamples: number): 'high' | 'medium' | 'low' {
  if (oneSecondSamples < 5 || cv1s === null) return 'low'
  let c: 'high' | 'medium' | 'low' = cv1s <= 0.15 ? 'high' : cv1s <= 0.35 ? 'medium' : 'low'
  if (windowS < FULL_WINDOW_S && c === 'high') c = 'medium'
  return c
}

const ORDER = { low: 0, medium: 1, high: 2 } as const

/** Overall confidence: the weakest direction, lowered to `low` by a flag that disqualifies the figure. */
export function overallConfidence (dirs: Direction[], flags: readonly ValidityFlag[]): 'high' | 'medium' | 'low' | null {
  if (dirs.length === 0) return null
  let c = dirs.map((d) => confidenceOf(d.cv1s, d.windowS, d.rates1sMbps?.length ?? Math.floor(d.windowS))).reduce((a, b) => ORDER[a] <= ORDER[b] ? a : b)
  if (flags.includes('degraded') && c === 'high') c = 'medium'
  if (flags.includes('client_limited') || flags.includes('cross_traffic')) c = 'low'
  return c
}
