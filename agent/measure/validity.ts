import type { Direction, ResultRecord, ServerView, ValidityFlag } from '../../shared/schemas/result.js'

/**
 * Validity flags and confidence (methodology.md §11–§12). Every rule that fires is recorded
 * with the numbers that made it fire; no result is ever dropped for failing one.
 */
/**
 * client_limited thresholds. A busy machine alone does not make the agent the limit (on a
 * small server sharing cores with the test server it is always busy); what does: the agent's
 * thread saturated, the agent ready to run but kept off the CPU by another process (run-queue
 * wait), or its event loop stalled, judged on the longest stall as well as the 99th
 * percentile: a 176 ms stall under a 48.7 ms p99 lost a whole sample and more (issue 10).
 * Machine CPU counts only where the OS gives no run-queue wait.
 */
export const CLIENT_LIMITED = { processBusyPct: 90, systemBusyPct: 90, runQueueWaitPct: 50, eventLoopP99Ms: 50, eventLoopMaxMs: 150, ceilingShare: 0.8 } as const
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
  if (c?.runQueueWaitPct != null && c.runQueueWaitPct >= CLIENT_LIMITED.runQueueWaitPct) out.push(`${dir}: the agent waited for a CPU ${f1(c.runQueueWaitPct)} % of the transfer ≥ ${CLIENT_LIMITED.runQueueWaitPct} % (another process held it)`)
  if (c?.runQueueWaitPct == null && c?.systemBusyPct != null && c.systemBusyPct >= CLIENT_LIMITED.systemBusyPct) out.push(`${dir}: machine CPU ${f1(c.systemBusyPct)} % ≥ ${CLIENT_LIMITED.systemBusyPct} %`)
  if (c?.eventLoopP99Ms != null && c.eventLoopP99Ms >= CLIENT_LIMITED.eventLoopP99Ms) out.push(`${dir}: event-loop delay p99 ${f1(c.eventLoopP99Ms)} ms ≥ ${CLIENT_LIMITED.eventLoopP99Ms} ms`)
  else if (c?.eventLoopMaxMs != null && c.eventLoopMaxMs >= CLIENT_LIMITED.eventLoopMaxMs) out.push(`${dir}: the event loop stalled for ${f1(c.eventLoopMaxMs)} ms ≥ ${CLIENT_LIMITED.eventLoopMaxMs} ms`)
  if (ceilingMbps !== null && ceilingMbps > 0 && d.mbps >= CLIENT_LIMITED.ceilingShare * ceilingMbps) {
    out.push(`${dir}: ${f1(d.mbps)} Mbps is ≥ ${CLIENT_LIMITED.ceilingShare * 100} % of this agent's calibrated loopback ceiling ${f1(ceilingMbps)} Mbps`)
  }
  return out
}

/**
 * TCP payload of an Ethernet link's rate: 1448 bytes of each 1538 on the wire (MSS with
 * timestamps; headers, FCS, preamble and gap). A 1 Gbit/s card carries at most ~941 Mbit/s.
 */
export const ETHERNET_GOODPUT_SHARE = 1448 / 1538

/**
 * local_link_limited: the result is at (≥ 90 % of) the NIC's negotiated speed or above it.
 * The figure is then a lower bound, and the reason says so, with the most the card can show
 * and what to change (issue 10, item 4; docs/result-record.md, "A result at the card's
 * ceiling").
 */
export function localLinkReason (dir: 'download' | 'upload', mbps: number, linkMbps: number | null, iface: string | null, ethernet = true): string | null {
  if (linkMbps === null || linkMbps <= 0) return null
  if (mbps < LOCAL_LINK_SHARE * linkMbps) return null
  const most = ethernet ? `, at most ~${Math.round(linkMbps * ETHERNET_GOODPUT_SHARE)} Mbps of payload` : ''
  return `${dir}: at least ${f1(mbps)} Mbps, limited by this machine's link (${iface ?? 'local'}, ${linkMbps} Mbps${most}): the line may be faster. To measure the line itself, test from a machine with a faster card or from the router`
}

/** Confidence of one direction (methodology.md §11). */
export function confidenceOf (cv1s: number | null, windowS: number, oneSecondSamples: number, stoppedStable = false): 'high' | 'medium' | 'low' {
  // A test stopped by the stability rule has shown ≥ 4 s of steady window with its last
  // three seconds within 5 %: that is the evidence a longer window would have given.
  if (oneSecondSamples < (stoppedStable ? 4 : 5) || cv1s === null) return 'low'
  let c: 'high' | 'medium' | 'low' = cv1s <= 0.15 ? 'high' : cv1s <= 0.35 ? 'medium' : 'low'
  if (windowS < FULL_WINDOW_S && !stoppedStable && c === 'high') c = 'medium'
  return c
}

const ORDER = { low: 0, medium: 1, high: 2 } as const
/** Flags whose figure is not the line's: confidence low. */
const LOWERING: readonly ValidityFlag[] = ['client_limited', 'cross_traffic', 'server_limited', 'client_rwnd_limited', 'proxied', 'count_mismatch']

/** Overall confidence: the weakest direction, lowered to `low` by a flag that disqualifies the figure. */
export function overallConfidence (dirs: Direction[], flags: readonly ValidityFlag[]): 'high' | 'medium' | 'low' | null {
  if (dirs.length === 0) return null
  let c = dirs.map((d) => confidenceOf(d.cv1s, d.windowS, d.rates1sMbps?.length ?? Math.floor(d.windowS), d.stopReason === 'early_stop')).reduce((a, b) => ORDER[a] <= ORDER[b] ? a : b)
  if (flags.includes('degraded') && c === 'high') c = 'medium'
  if (flags.some((f) => LOWERING.includes(f))) c = 'low'
  return c
}

/**
 * Flags from the server's own counters of one direction (issue 10, item 3; methodology.md
 * §11 `server_limited`, `client_rwnd_limited`, `count_mismatch`, `proxied`). TCP_INFO
 * shares are of the connections' whole life on the server: busy (data in flight) split into
 * receive-window-limited, send-buffer-limited and the rest, and idle (nothing to send).
 */
export const SERVER_VIEW = { idleShare: 0.2, sndbufShare: 0.2, rwndShare: 0.2, countShare: 0.05, countMinBytes: 4e6 } as const

const pct = (v: number): string => `${Math.round(v * 100)} %`

export function serverViewFlags (dir: 'download' | 'upload', v: ServerView): Array<{ flag: ValidityFlag, reason: string }> {
  const out: Array<{ flag: ValidityFlag, reason: string }> = []
  const proxyEvidence = [...v.proxyHeaders.map((h) => `the server saw "${h}"`), ...(v.responseVia === null ? [] : [`a response carried "via: ${v.responseVia}"`])]
  if (proxyEvidence.length > 0) {
    // The server's TCP connections end at the proxy: their TCP_INFO says nothing about the line.
    out.push({ flag: 'proxied', reason: `${dir}: a proxy is in the path: ${proxyEvidence.join('; ')}` })
    return out
  }
  const tcp = v.tcp
  if (dir !== 'download' || tcp === null || tcp.elapsedMs <= 0) return out
  // Bytes the server's TCP saw acknowledged against what the agent had read at that moment;
  // only when TCP_INFO covers every connection (a reset one takes its counters with it). When
  // they differ, something between the two ends holds or drops bytes: the server's
  // connections end there, so their TCP_INFO says nothing more about the agent's line.
  const diff = tcp.bytesAcked - v.agentBytes
  if (tcp.sockets === v.connections && Math.abs(diff) > Math.max(SERVER_VIEW.countShare * v.agentBytes, SERVER_VIEW.countMinBytes)) {
    out.push({ flag: 'count_mismatch', reason: `${dir}: the server's connections had ${tcp.bytesAcked} bytes acknowledged while the agent had read ${v.agentBytes} (difference ${diff}, > ${pct(SERVER_VIEW.countShare)}): something between them holds or drops bytes, and the server's TCP figures describe that, not the agent's line` })
    return out
  }
  const idle = tcp.idleMs / tcp.elapsedMs
  const sndbuf = tcp.sndbufLimitedMs / tcp.elapsedMs
  const rwnd = tcp.rwndLimitedMs / tcp.elapsedMs
  if (idle >= SERVER_VIEW.idleShare) out.push({ flag: 'server_limited', reason: `${dir}: the server had nothing queued to send for ${pct(idle)} of its connections' time (TCP_INFO over ${tcp.sockets} connections) ≥ ${pct(SERVER_VIEW.idleShare)}` })
  else if (sndbuf >= SERVER_VIEW.sndbufShare) out.push({ flag: 'server_limited', reason: `${dir}: the server's send buffer limited ${pct(sndbuf)} of its connections' time ≥ ${pct(SERVER_VIEW.sndbufShare)}` })
  if (rwnd >= SERVER_VIEW.rwndShare) out.push({ flag: 'client_rwnd_limited', reason: `${dir}: the agent's TCP receive window limited ${pct(rwnd)} of the server's sending time ≥ ${pct(SERVER_VIEW.rwndShare)} (TCP_INFO over ${tcp.sockets} connections)` })
  return out
}
