import os from 'node:os'
import { bytesBetween, isLoopbackName, readInterfaceCounters, type InterfaceCounters } from '../platform/net-counters.js'

/**
 * The quiet-line gate before a full test (methodology.md §4 phase 0, SamKnows' cross-traffic
 * check): over ~5 s, interface traffic must stay at or below 25,000 B/s and CPU at or below
 * 30 %. Traffic is counted as the cross-traffic check counts it (measure/cross-traffic.ts): on
 * the interface the test will use, found by the route to the test server, and on loopback only
 * the received side (loopback counts each byte once sent and once received); every
 * non-loopback interface only when that route is unknown. If not, measure again (each look is a 5 s window) for up to 30 s, then give up: the caller records a `skip`
 * with the levels measured, so the gap is explained rather than filled with a disturbed test.
 */
export interface GateLevels {
  /** Interface bytes per second (rx + tx, all non-loopback interfaces); null when the OS has no counters. */
  bytesPerS: number | null
  cpuPct: number | null
  /** Why bytesPerS is null. */
  countersUnavailable?: string
  /** The interface counted, when the route to the test server named one. */
  iface?: string
}

export interface GateDeps {
  counters?: () => Promise<InterfaceCounters>
  /** The interface the test will use (platform/link.ts interfaceToward); null or absent: all but loopback. */
  iface?: string | null
  cpuTimes?: () => { idle: number, total: number }
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  mono: () => number
  windowMs?: number
  retryMs?: number
  maxWaitMs?: number
  maxBytesPerS?: number
  maxCpuPct?: number
}

export type GateOutcome = { quiet: true, levels: GateLevels, waitedMs: number } | { quiet: false, levels: GateLevels, waitedMs: number, reason: string }

export function systemCpuTimes (): { idle: number, total: number } {
  let idle = 0
  let total = 0
  for (const c of os.cpus()) {
    idle += c.times.idle
    total += c.times.idle + c.times.user + c.times.nice + c.times.sys + c.times.irq
  }
  return { idle, total }
}

export async function measureLevels (d: GateDeps, signal?: AbortSignal): Promise<GateLevels> {
  const counters = d.counters ?? (async () => await readInterfaceCounters())
  const cpuTimes = d.cpuTimes ?? systemCpuTimes
  const windowMs = d.windowMs ?? 5000
  const [c0, p0, t0] = [await counters(), cpuTimes(), d.mono()]
  await d.sleep(windowMs, signal)
  const [c1, p1, t1] = [await counters(), cpuTimes(), d.mono()]
  const seconds = Math.max(0.001, (t1 - t0) / 1000)
  const iface = d.iface ?? null
  const moved = bytesBetween(c0, c1, iface === null ? undefined : [iface])
  const bytes = moved === null ? null : iface !== null && isLoopbackName(iface) ? moved.rxBytes : moved.rxBytes + moved.txBytes
  const dt = p1.total - p0.total
  const levels: GateLevels = {
    bytesPerS: bytes === null ? null : Math.round(bytes / seconds),
    cpuPct: dt > 0 ? Math.round(1000 * (1 - (p1.idle - p0.idle) / dt)) / 10 : null
  }
  if (iface !== null) levels.iface = iface
  if (moved === null) levels.countersUnavailable = c1.reason ?? c0.reason ?? 'interface counters went backwards'
  return levels
}

export async function quietLineGate (d: GateDeps, signal?: AbortSignal): Promise<GateOutcome> {
  const maxB = d.maxBytesPerS ?? 25_000
  const maxCpu = d.maxCpuPct ?? 30
  const maxWait = d.maxWaitMs ?? 30_000
  const retry = d.retryMs ?? 0
  const start = d.mono()
  for (;;) {
    const levels = await measureLevels(d, signal)
    const busy: string[] = []
    if (levels.bytesPerS !== null && levels.bytesPerS > maxB) busy.push(`interface traffic ${levels.bytesPerS} B/s > ${maxB} B/s`)
    if (levels.cpuPct !== null && levels.cpuPct > maxCpu) busy.push(`CPU ${levels.cpuPct} % > ${maxCpu} %`)
    const waited = d.mono() - start
    if (busy.length === 0) return { quiet: true, levels, waitedMs: waited }
    if (waited >= maxWait || signal?.aborted === true) return { quiet: false, levels, waitedMs: waited, reason: busy.join('; ') }
    if (retry > 0) await d.sleep(retry, signal)
  }
}
