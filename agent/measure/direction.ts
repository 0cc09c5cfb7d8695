import type { Direction, LoadedLatency, ProbeLoad } from '../../shared/schemas/result.js'
import { streamAddTimes, throughputFigures, type Sample, type WarmupBounds } from './goodput.js'
import { latencyStats } from './latency.js'
import type { TransferResult } from './transfer.js'

const r3 = (v: number | null): number | null => v === null ? null : Math.round(v * 1000) / 1000

/**
 * The load over [fromMs, toMs]: the goodput between the first and last samples inside it and
 * the streams open at those samples. A queue's delay depends on what fills it (six streams
 * build more queue than four), so a loaded-latency figure is stated with its load.
 */
export function probeLoad (samples: readonly Sample[], streamSeries: readonly number[], fromMs: number, toMs: number): ProbeLoad {
  const inside = samples.map((s, i) => ({ s, i })).filter(({ s }) => s.tMs >= fromMs && s.tMs <= toMs)
  const first = inside[0]
  const last = inside[inside.length - 1]
  const mbps = first !== undefined && last !== undefined && last.s.tMs > first.s.tMs
    ? ((last.s.bytes - first.s.bytes) * 8) / ((last.s.tMs - first.s.tMs) * 1000)
    : null
  const streams = inside.map(({ i }) => streamSeries[i]).filter((n): n is number => n !== undefined)
  return {
    fromS: r3(fromMs / 1000) as number,
    toS: r3(toMs / 1000) as number,
    mbps: r3(mbps),
    streamsMin: streams.length > 0 ? Math.min(...streams) : 0,
    streamsMax: streams.length > 0 ? Math.max(...streams) : 0
  }
}

/**
 * Loaded latency of one direction: the probes sent after the detected warm-up (the ramp
 * would otherwise dilute the figure), their statistics, the increase over the idle median,
 * RPM = 60000 ÷ loaded median in ms (methodology.md §9), and the load they ran under.
 */
export function loadedLatency (t: Pick<TransferResult, 'loadedProbes' | 'samples' | 'streamSeries'>, warmupEndS: number | null, idleMedianMs: number | null): LoadedLatency | null {
  const after = t.loadedProbes.filter((p) => p.tMs >= (warmupEndS ?? 0) * 1000)
  if (after.length === 0) return null
  const stats = latencyStats(after.map((p) => p.rttMs))
  const span = [after[0]!.tMs, Math.max(...after.map((p) => p.tMs + p.rttMs))] as const
  return {
    ...stats,
    increaseMs: stats.medianMs !== null && idleMedianMs !== null ? r3(stats.medianMs - idleMedianMs) : null,
    rpm: stats.medianMs !== null && stats.medianMs > 0 ? Math.round(60_000 / stats.medianMs) : null,
    load: probeLoad(t.samples, t.streamSeries, span[0], span[1])
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
    loaded: loadedLatency(t, f.warmupEndS, idleMedianMs),
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
