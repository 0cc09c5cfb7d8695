import { latencyRecord } from '../../bench/ingest/records.js'
import type { Direction, ResultRecord } from '../../shared/schemas/result.js'

function direction (mbps: number): Direction {
  return {
    mbps,
    streamsInitial: 4,
    streamsMax: 4,
    warmupEndS: 1.2,
    windowS: 8,
    durationS: 10,
    bytes: Math.round(mbps * 1e6 / 8 * 8),
    meanWholeMbps: mbps,
    p90_1sMbps: mbps,
    trimmedMeanMbps: mbps,
    min1sMbps: mbps,
    cv1s: 0.02,
    countedAt: 'client',
    byteCapped: false,
    streamErrors: 0,
    loaded: null,
    cpu: null,
    samples: { intervalMs: 100, cumulativeBytes: [], tMs: [] }
  }
}

/**
 * A clean, valid speed result (status ok, confidence high, no flags) with the given
 * headline figures, measured at `at` with a synchronised clock, so it lands in that clock hour.
 */
export function speedRecord ({ at, downMbps, upMbps, idleMs }: { at: Date, downMbps: number, upMbps: number, idleMs: number }): ResultRecord {
  const base = latencyRecord({}, at)
  return {
    ...base,
    kind: 'speed',
    status: 'ok',
    durationMs: 25_000,
    clock: { offsetMs: 0, sinceSyncS: 60 },
    latency: {
      idle: { n: 10, minMs: idleMs, medianMs: idleMs, meanMs: idleMs, p90Ms: idleMs, iqmMs: idleMs, jitterMs: 0.5, jitterRfc3550Ms: 0.4, samplesMs: [], connect: null }
    },
    download: direction(downMbps),
    upload: direction(upMbps),
    confidence: 'high'
  }
}
