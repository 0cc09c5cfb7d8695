import os from 'node:os'
import { readFileSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'

/**
 * CPU and event-loop load while a transfer runs (methodology.md §12): a saturated agent
 * under-reads the line, and the result must say so rather than blame the ISP
 * (m-lab/ndt7-client-go#59, librespeed/speedtest#379).
 */
export interface CpuReading {
  /** Process CPU time ÷ wall time, % of one core (can exceed 100 with worker threads). */
  processBusyPct: number | null
  /** Whole-machine busy share over all cores, %. */
  systemBusyPct: number | null
  eventLoopP50Ms: number | null
  eventLoopP99Ms: number | null
  eventLoopMaxMs: number | null
  /**
   * Share of the wall time the agent's main thread was ready to run but waited for a CPU
   * (Linux /proc/self/schedstat), %: the direct sign of another process taking the agent's
   * CPU. Null where the OS does not say.
   */
  runQueueWaitPct: number | null
}

/** Nanoseconds the main thread has waited on a run queue (second field of schedstat). */
export function runQueueWaitNs (file = '/proc/self/schedstat'): number | null {
  try {
    const v = Number(readFileSync(file, 'utf8').trim().split(/\s+/)[1])
    return Number.isFinite(v) ? v : null
  } catch {
    return null
  }
}

function cpuTimes (): { busy: number, total: number } {
  let busy = 0
  let total = 0
  for (const c of os.cpus()) {
    const t = c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle
    total += t
    busy += t - c.times.idle
  }
  return { busy, total }
}

const round = (v: number): number => Math.round(v * 100) / 100

/** Starts sampling; `stop()` returns the figures over the whole span. */
export function startCpuMonitor (now: () => number = () => performance.now()): { stop: () => CpuReading } {
  const t0 = now()
  const usage0 = process.cpuUsage()
  const sys0 = cpuTimes()
  const wait0 = runQueueWaitNs()
  const h = monitorEventLoopDelay({ resolution: 10 })
  h.enable()
  return {
    stop () {
      h.disable()
      const wallMs = now() - t0
      const u = process.cpuUsage(usage0)
      const sys1 = cpuTimes()
      const wait1 = runQueueWaitNs()
      const dTotal = sys1.total - sys0.total
      const ms = (ns: number): number | null => Number.isFinite(ns) && ns > 0 ? round(ns / 1e6) : null
      // The histogram holds nothing until the first resolution tick has passed.
      const hasLoop = h.count > 0
      return {
        processBusyPct: wallMs > 0 ? round(((u.user + u.system) / 1000) / wallMs * 100) : null,
        systemBusyPct: dTotal > 0 ? round((sys1.busy - sys0.busy) / dTotal * 100) : null,
        eventLoopP50Ms: hasLoop ? ms(h.percentile(50)) : null,
        eventLoopP99Ms: hasLoop ? ms(h.percentile(99)) : null,
        eventLoopMaxMs: hasLoop ? ms(h.max) : null,
        runQueueWaitPct: wait0 !== null && wait1 !== null && wallMs > 0 ? round(((wait1 - wait0) / 1e6) / wallMs * 100) : null
      }
    }
  }
}
