import type { Direction, LoadedLatency } from '../../shared/schemas/result.js'
import { streamAddTimes, throughputFigures, type WarmupBounds } from './goodput.js'
import { latencyStats } from './latency.js'
import type { TransferResult } from './transfer.js'

const r3 = (v: number | null): number | null => v === null ? null : Math.round(v * 1000) / 1000

/**
 * Loaded latency of one direction: the probes sent after the detected warm-up (the ramp
 * would otherwise dilute the figure), their statistics, the increase over the idle median
 * and RPM = 60000 ÷ loaded median in ms (methodology.md §9).
 */
export function loadedLatency (probes: TransferResult['loadedProbes'], warmupEndS: number | null, idleMedianMs: number | null): LoadedLatency | null {
  const after = probes.filter((p) => p.tMs >= (warmupEndS ?? 0) * 1000).map((p) => p.rttMs)
  if (after.length === 0) return null
  const stats = latencyStats(after)
  return {
    ...stats,
    increaseMs: stats.medianMs !== null && idleMedianMs !== null ? r3(stats.medianMs - idleMedianMs) : null,
    rpm: stats.medianMs !== null && stats.medianMs > 0 ? Math.round(60_000 / stats.medianMs) : null
  }
}

/** The Direction block of a result from one transfer. */
export function directionOf ({ t, bounds, streamsInitial, sampleIntervalMs, idleMedianMs, ceilingMbps, family }: {
  t: TransferResult
  bounds: WarmupBounds
  streamsInitial: number
  sampleIntervalMs: number
  idleMedianMs: number | null
  ceilingMbps: number | null
  family: 4 | 6 | null
}): Direction {
  const f = throughputFigures(t.samples, bounds, streamAddTimes(t.samples, t.streamSeries, streamsInitial))
  return {
    mbps: r3(f.goodputMbps) ?? 0,
    streamsInitial,
    streamsMax: Math.max(streamsInitial, t.streamsStarted),
    warmupEndS: r3(f.warmupEndS),
    windowS: r3(f.windowS) ?? 0,
    durationS: r3(f.durationS) ?? 0,
    bytes: t.totalBytes,
    meanWholeMbps: r3(f.meanWholeMbps),
    p90_1sMbps: r3(f.p90_1sMbps),
    trimmedMeanMbps: r3(f.trimmedMeanMbps),
    min1sMbps: r3(f.min1sMbps),
    cv1s: r3(f.cv1s),
    countedAt: t.countedAt,
    byteCapped: t.byteCapped,
    streamErrors: t.streamErrors,
    loaded: loadedLatency(t.loadedProbes, f.warmupEndS, idleMedianMs),
    cpu: {
      processBusyPct: t.cpu.processBusyPct,
      systemBusyPct: t.cpu.systemBusyPct,
      eventLoopP99Ms: t.cpu.eventLoopP99Ms,
      eventLoopP50Ms: t.cpu.eventLoopP50Ms,
      eventLoopMaxMs: t.cpu.eventLoopMaxMs,
      runQueueWaitPct: t.cpu.runQueueWaitPct,
      calibratedCeilingMbps: ceilingMbps
    },
    stopReason: t.stopReason,
    server: t.server,
    rates1sMbps: f.rates1sMbps.map((v) => r3(v) as number),
    excludedS: r3(f.excludedS) ?? 0,
    endTrend: f.endTrend === null ? null : { change: r3(f.endTrend.change) as number, t: Number.isFinite(f.endTrend.t) ? r3(f.endTrend.t) as number : null, n: f.endTrend.n },
    forcedFamily: family,
    samples: {
      intervalMs: sampleIntervalMs,
      cumulativeBytes: t.samples.map((s) => s.bytes),
      tMs: t.samples.map((s) => Math.round(s.tMs * 10) / 10),
      streams: t.streamSeries,
      ...(t.perStreamCum.length > 0 ? { perStreamCumBytes: t.perStreamCum } : {})
    }
  }
}
