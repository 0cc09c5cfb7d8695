import { coefficientOfVariation, median, min, percentile, trimmedMean } from '../../shared/stats.js'

/**
 * Throughput figures from receiver-side cumulative byte samples (methodology.md §6–§8).
 * Pure: takes the sample series, returns numbers, so every figure can be checked by hand.
 */
export interface Sample { tMs: number, bytes: number }

export interface WarmupBounds { minS: number, maxS: number }
export const DOWNLOAD_WARMUP: WarmupBounds = { minS: 1, maxS: 4 }
export const UPLOAD_WARMUP: WarmupBounds = { minS: 2, maxS: 5 }

export interface ThroughputFigures {
  /** Headline: steady-state goodput after the warm-up, payload bytes, no overhead factor. */
  goodputMbps: number | null
  warmupEndS: number | null
  windowS: number
  durationS: number
  bytes: number
  meanWholeMbps: number | null
  p90_1sMbps: number | null
  trimmedMeanMbps: number | null
  min1sMbps: number | null
  cv1s: number | null
  /** 1-s rates over the steady window, Mbps. */
  rates1sMbps: number[]
}

/** Bytes at time t by linear interpolation between samples (samples are monotonic in t). */
export function bytesAt (samples: readonly Sample[], tMs: number): number {
  if (samples.length === 0) return 0
  const first = samples[0] as Sample
  if (tMs <= first.tMs) return first.bytes
  for (let i = 1; i < samples.length; i++) {
    const b = samples[i] as Sample
    if (b.tMs >= tMs) {
      const a = samples[i - 1] as Sample
      const span = b.tMs - a.tMs
      return span <= 0 ? b.bytes : a.bytes + (b.bytes - a.bytes) * ((tMs - a.tMs) / span)
    }
  }
  return (samples[samples.length - 1] as Sample).bytes
}

function mbps (bytes: number, ms: number): number {
  return (bytes * 8) / (ms * 1000)
}

/**
 * Rate series from the samples: for each sample after the first second, the rate over the
 * preceding `windowMs` (a moving average; `windowMs` = 1000 gives the smoothed series).
 */
export function movingRates (samples: readonly Sample[], windowMs: number, fromMs = 0): Array<{ tMs: number, mbps: number }> {
  const out: Array<{ tMs: number, mbps: number }> = []
  for (const s of samples) {
    if (s.tMs < fromMs + windowMs) continue
    out.push({ tMs: s.tMs, mbps: mbps(s.bytes - bytesAt(samples, s.tMs - windowMs), windowMs) })
  }
  return out
}

/**
 * Warm-up end: the first time the 1-s moving average reaches 90 % of the median of the
 * moving average over the second half of the test, clamped to [minS, maxS] (methodology.md
 * §7). Like iperf3's -O omit period and LibreSpeed's grace time, but detected, not fixed.
 */
export function detectWarmupEnd (samples: readonly Sample[], bounds: WarmupBounds): number | null {
  if (samples.length < 2) return null
  const start = (samples[0] as Sample).tMs
  const end = (samples[samples.length - 1] as Sample).tMs
  const smooth = movingRates(samples, 1000, start)
  const secondHalf = smooth.filter((r) => r.tMs >= start + (end - start) / 2).map((r) => r.mbps)
  const ref = median(secondHalf)
  let tw = bounds.maxS * 1000
  if (ref !== null && ref > 0) {
    const hit = smooth.find((r) => r.mbps >= 0.9 * ref)
    if (hit !== undefined) tw = hit.tMs - start
  }
  return Math.min(bounds.maxS * 1000, Math.max(bounds.minS * 1000, tw)) / 1000
}

/** Rates of consecutive whole seconds from `fromMs` to `toMs`, Mbps. */
export function oneSecondRates (samples: readonly Sample[], fromMs: number, toMs: number): number[] {
  const out: number[] = []
  for (let t = fromMs; t + 1000 <= toMs + 1e-6; t += 1000) out.push(mbps(bytesAt(samples, t + 1000) - bytesAt(samples, t), 1000))
  return out
}

/**
 * Legacy Ookla figure: 20 equal slices from the first byte, drop the slowest 30 % and the
 * fastest 10 %, mean the rest (methodology.md §8; unconfirmed for today's engine).
 */
export function ooklaTrimmedMbps (samples: readonly Sample[]): number | null {
  if (samples.length < 2) return null
  const start = (samples[0] as Sample).tMs
  const end = (samples[samples.length - 1] as Sample).tMs
  const slice = (end - start) / 20
  if (slice <= 0) return null
  const rates: number[] = []
  for (let i = 0; i < 20; i++) {
    const a = start + i * slice
    rates.push(mbps(bytesAt(samples, a + slice) - bytesAt(samples, a), slice))
  }
  return trimmedMean(rates, 0.3, 0.1)
}

export function throughputFigures (samples: readonly Sample[], bounds: WarmupBounds): ThroughputFigures {
  const empty: ThroughputFigures = {
    goodputMbps: null,
    warmupEndS: null,
    windowS: 0,
    durationS: 0,
    bytes: 0,
    meanWholeMbps: null,
    p90_1sMbps: null,
    trimmedMeanMbps: null,
    min1sMbps: null,
    cv1s: null,
    rates1sMbps: []
  }
  if (samples.length < 2) return { ...empty, bytes: samples[0]?.bytes ?? 0 }
  const first = samples[0] as Sample
  const last = samples[samples.length - 1] as Sample
  const durationMs = last.tMs - first.tMs
  // The whole-test mean runs from the first received byte, like ndt7 and MSAK.
  const firstByte = samples.find((s) => s.bytes > first.bytes) ?? last
  const firstByteIdx = Math.max(0, samples.indexOf(firstByte) - 1)
  const fb = samples[firstByteIdx] as Sample
  // A test cut short (byte cap, abort) can end before the warm-up bound; then at most its
  // first half is treated as warm-up, so the figure still comes from the later, steadier part.
  const detected = detectWarmupEnd(samples, bounds)
  const warmupEndS = detected === null ? null : Math.min(detected, durationMs / 2000)
  const twMs = first.tMs + (warmupEndS ?? 0) * 1000
  const windowMs = last.tMs - twMs
  const goodput = windowMs > 0 ? mbps(last.bytes - bytesAt(samples, twMs), windowMs) : null
  const rates = oneSecondRates(samples, twMs, last.tMs)
  return {
    goodputMbps: goodput,
    warmupEndS,
    windowS: Math.max(0, windowMs / 1000),
    durationS: durationMs / 1000,
    bytes: last.bytes - first.bytes,
    meanWholeMbps: last.tMs > fb.tMs ? mbps(last.bytes - fb.bytes, last.tMs - fb.tMs) : null,
    p90_1sMbps: percentile(rates, 90),
    trimmedMeanMbps: ooklaTrimmedMbps(samples),
    min1sMbps: min(rates),
    cv1s: coefficientOfVariation(rates),
    rates1sMbps: rates
  }
}
