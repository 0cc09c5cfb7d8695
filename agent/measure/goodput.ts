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
  /** Seconds after the warm-up left out because streams had just been added. */
  excludedS: number
  /** How the 1-s rates still move at the end of the window. */
  endTrend: Trend | null
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

/** A smoothed rate this far above the steady reference is still the start-up peak. */
export const PEAK_SHARE = 1.15
/** ... and has passed once the smoothed rate is back within 5 % of it. */
export const SETTLED_SHARE = 1.05

/**
 * Warm-up end: the first time the 1-s moving average reaches 90 % of the median of the
 * moving average over the second half of the test, clamped to [minS, maxS] (methodology.md
 * §7). Like iperf3's -O omit period and LibreSpeed's grace time, but detected, not fixed.
 *
 * A start-up peak must also have passed: under cubic with loss, slow start overshoots and
 * the rate then falls for seconds (300/50 Mbit/s at 0.1 % loss: 285 down to ~57 Mbit/s,
 * issue 10). When the smoothed rate is more than 15 % above the reference before maxS, the
 * warm-up runs until it is back within 5 % of it, even past maxS, though never past the
 * middle of the test.
 */
export function detectWarmupEnd (samples: readonly Sample[], bounds: WarmupBounds): number | null {
  if (samples.length < 2) return null
  const start = (samples[0] as Sample).tMs
  const end = (samples[samples.length - 1] as Sample).tMs
  const half = (end - start) / 2
  const smooth = movingRates(samples, 1000, start)
  const secondHalf = smooth.filter((r) => r.tMs >= start + half).map((r) => r.mbps)
  const ref = median(secondHalf)
  let tw = bounds.maxS * 1000
  let peakEnd = 0
  if (ref !== null && ref > 0) {
    const hit = smooth.find((r) => r.mbps >= 0.9 * ref)
    if (hit !== undefined) tw = hit.tMs - start
    // A start-up peak begins before maxS; it has passed once the rate is back near the reference.
    const peak = smooth.findIndex((r) => r.tMs - start <= bounds.maxS * 1000 && r.mbps > PEAK_SHARE * ref)
    if (peak >= 0) {
      const down = smooth.findIndex((r, i) => i > peak && r.mbps <= SETTLED_SHARE * ref)
      peakEnd = down >= 0 ? (smooth[down] as { tMs: number }).tMs - start : half
    }
  }
  const clamped = Math.min(bounds.maxS * 1000, Math.max(bounds.minS * 1000, tw))
  return Math.max(clamped, Math.min(peakEnd, half)) / 1000
}

/** Seconds after streams are added that stay out of the steady window: the new flows' slow start. */
export const ADD_SETTLE_MS = 2000

/** Times (ms) at which the open-stream count rose after the initial streams had all started. */
export function streamAddTimes (samples: readonly Sample[], streamSeries: readonly number[], initialStreams: number): number[] {
  const out: number[] = []
  for (let i = 1; i < samples.length && i < streamSeries.length; i++) {
    const prev = streamSeries[i - 1] as number
    const cur = streamSeries[i] as number
    if (cur > prev && cur > initialStreams) out.push((samples[i] as Sample).tMs)
  }
  return out
}

/** [from, to] minus the seconds after each add: the intervals the headline is measured over. */
export function steadyIntervals (fromMs: number, toMs: number, addTimesMs: readonly number[], settleMs = ADD_SETTLE_MS): Array<[number, number]> {
  let parts: Array<[number, number]> = [[fromMs, toMs]]
  for (const t of addTimesMs) {
    // A stream counted at sample t started within the sample before it.
    const [a, b] = [t - 100, t + settleMs]
    parts = parts.flatMap(([x, y]): Array<[number, number]> => b <= x || a >= y ? [[x, y]] : [...(a > x ? [[x, a] as [number, number]] : []), ...(b < y ? [[b, y] as [number, number]] : [])])
  }
  return parts.filter(([x, y]) => y - x > 1e-6)
}

/** The relative change the 1-s rates still make over the last `n` seconds, from a least-squares line. */
export interface Trend { change: number, t: number, n: number }

export function endTrend (rates: readonly number[], n = 6): Trend | null {
  const y = rates.slice(-n)
  if (y.length < 4) return null
  const k = y.length
  const mx = (k - 1) / 2
  const my = y.reduce((a, b) => a + b, 0) / k
  if (!(my > 0)) return null
  let sxy = 0
  let sxx = 0
  for (let i = 0; i < k; i++) { sxy += (i - mx) * ((y[i] as number) - my); sxx += (i - mx) ** 2 }
  const slope = sxy / sxx
  let sse = 0
  for (let i = 0; i < k; i++) sse += ((y[i] as number) - (my + slope * (i - mx))) ** 2
  const se = Math.sqrt(sse / (k - 2) / sxx)
  return { change: slope * (k - 1) / my, t: se > 0 ? slope / se : slope === 0 ? 0 : Infinity * Math.sign(slope), n: k }
}

/**
 * Still trending at the end: the fitted line over the last six 1-s rates changes by at
 * least 15 % of their mean and the slope is clear of the noise (|t| ≥ 3). A test like that
 * has not found the line's sustained rate; it is flagged `unstable` and not counted.
 *
 * A test that stopped early has fewer rates, and over fewer points the same t is weaker
 * evidence (t = 3 over six seconds leaves a 4 % chance that flat noise produced it; over four
 * seconds, 9.5 %). The slope must therefore clear Student's t at the same 4 % for the points
 * there are: 4.852 over four rates (2 degrees of freedom), 3.484 over five, 3 over six.
 */
export const TREND_LIMIT = { change: 0.15, t: 3 } as const
const T_AT_FOUR_PERCENT: Readonly<Record<number, number>> = { 2: 4.852, 3: 3.484, 4: TREND_LIMIT.t }

export function stillTrending (trend: Trend | null): boolean {
  if (trend === null) return false
  const tLimit = T_AT_FOUR_PERCENT[trend.n - 2] ?? TREND_LIMIT.t
  return Math.abs(trend.change) >= TREND_LIMIT.change && Math.abs(trend.t) >= tLimit
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

export function throughputFigures (samples: readonly Sample[], bounds: WarmupBounds, addTimesMs: readonly number[] = []): ThroughputFigures {
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
    rates1sMbps: [],
    excludedS: 0,
    endTrend: null
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
  // The seconds after a stream was added are left out: its slow start is a spike, not the line.
  const parts = twMs < last.tMs ? steadyIntervals(twMs, last.tMs, addTimesMs) : []
  const windowMs = parts.reduce((a, [x, y]) => a + (y - x), 0)
  const windowBytes = parts.reduce((a, [x, y]) => a + bytesAt(samples, y) - bytesAt(samples, x), 0)
  const goodput = windowMs > 0 ? mbps(windowBytes, windowMs) : null
  const rates = parts.flatMap(([x, y]) => oneSecondRates(samples, x, y))
  return {
    goodputMbps: goodput,
    warmupEndS,
    windowS: Math.max(0, windowMs / 1000),
    excludedS: Math.max(0, (last.tMs - twMs - windowMs) / 1000),
    endTrend: endTrend(rates),
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
