import { coefficientOfVariation, mean } from '../../shared/stats.js'
import { ADD_SETTLE_MS, bytesAt, detectWarmupEnd, endTrend, type Sample, type WarmupBounds } from './goodput.js'

/**
 * Decisions taken while a transfer runs (methodology.md §5 and §7.5). Pure functions of the
 * sample series so each rule can be tested on a synthetic series.
 */

/** Most streams a test may open (the RPM draft's maximum). */
export const MAX_STREAMS = 16
/** Streams added per step of the dynamic ramp. */
export const RAMP_STEP = 2
/** The aggregate 1-s rate must have risen this much over the last three seconds to add streams. */
export const RAMP_MIN_RISE = 0.10
/**
 * ... and the half-second rates of those three seconds must rise on a fitted line by at least
 * 15 % of their mean, with the slope 3.75 standard errors clear of zero (about 1 % one-sided
 * over six points).
 */
export const RAMP_TREND = { change: 0.15, t: 3.75 } as const

const mbps = (bytes: number, ms: number): number => (bytes * 8) / (ms * 1000)

/** Rate over [tMs − 1000, tMs], Mbps, from cumulative samples. */
export function rateOverSecondEndingAt (samples: readonly Sample[], tMs: number): number {
  return mbps(bytesAt(samples, tMs) - bytesAt(samples, tMs - 1000), 1000)
}

/** No further add until the streams added last have had this long to reach their share. */
export const RAMP_SETTLE_MS = 2000

/**
 * Whether to add streams at `tMs`: only in the first half of the test, below the maximum,
 * and only while the aggregate rate still rises as a trend (Ookla's dynamic connection
 * scaling; the RPM draft adds flows while goodput still grows): each of the last three whole
 * seconds above the one before, by 10 % or more from the first to the third, and the six
 * half-second rates of those seconds on a line that rises clear of their noise (RAMP_TREND).
 *
 * One noisy second is not a trend: on a lossy cubic path single-second jumps had the same path
 * ramp to 14 streams in one run and stay at 4 in the next (issue 10). Nor is a three-second
 * climb alone: on flat synthetic series whose 1-s rates wander by ~6 %, three rising seconds
 * came up in 36 % of 400 tests, each an add that changes a loss-bound path's figure by half;
 * with the fitted line required too, in 4 % (test/agent/ramp.test.ts). A real climb (streams
 * still growing towards the line's rate) passes both. Not adding costs little: the initial eight
 * streams fill the bench's lines (speed-test.ts initialStreams). Streams added less than
 * RAMP_SETTLE_MS ago are still in slow start, so the rise they cause is not evidence either.
 */
export function shouldAddStreams ({ samples, tMs, maxMs, streams, maxStreams = MAX_STREAMS, lastAddMs = null }: {
  samples: readonly Sample[]
  tMs: number
  maxMs: number
  streams: number
  maxStreams?: number
  /** When streams were last added by the ramp; null if never. */
  lastAddMs?: number | null
}): boolean {
  if (streams >= maxStreams || tMs > maxMs / 2 || tMs < 3000) return false
  if (lastAddMs !== null && tMs - lastAddMs < RAMP_SETTLE_MS) return false
  const last = samples[samples.length - 1]
  if (last === undefined || last.tMs < tMs - 150) return false
  const [a, b, c] = [2000, 1000, 0].map((back) => rateOverSecondEndingAt(samples, tMs - back)) as [number, number, number]
  if (!(a > 0)) return false
  if (!(b > a && c > b && c >= a * (1 + RAMP_MIN_RISE))) return false
  const halves: number[] = []
  for (let t = tMs - 3000; t + 500 <= tMs + 1e-6; t += 500) halves.push(mbps(bytesAt(samples, t + 500) - bytesAt(samples, t), 500))
  const trend = endTrend(halves, halves.length)
  return trend !== null && trend.change >= RAMP_TREND.change && trend.t >= RAMP_TREND.t
}

export interface EarlyStopRule {
  /** Only links at least this fast stop early, Mbps. */
  minMbps: number
  /** Steady window that must already be measured, ms. */
  minWindowMs: number
  /** Largest coefficient of variation of the last three 1-s rates. */
  maxCv: number
}

/**
 * Stop once stable, at any speed (issue 10, item 5): ≥ 4 s of steady window and the last
 * three 1-s rates with CV ≤ 5 % (the RPM draft's stability tolerance). methodology.md §7.5
 * stopped early only at ≥ 200 Mbps, so every slower test ran the 15 s caps: 1.5× the bytes of
 * a fixed 10 s-per-direction test at 100 Mbit/s. A lossy path rarely passes the 5 % test and
 * runs to the cap, where the longer window is what it needs.
 */
export const EARLY_STOP: EarlyStopRule = { minMbps: 0, minWindowMs: 4000, maxCv: 0.05 }

/**
 * Per-direction byte budget by line class (expected tier): the top rate of the class over the
 * 15 s cap. It only binds when the line is faster than its class, and the test then stops
 * flagged `byte_capped` with its steady-window figure; the stop rule above is what makes a
 * test light.
 */
export function byteBudgetForTier (expectedMbps: number | null | undefined): number {
  const top = expectedMbps == null ? 1000 : expectedMbps <= 50 ? 50 : expectedMbps <= 150 ? 150 : expectedMbps <= 400 ? 400 : 1000
  return Math.round(top * 1e6 / 8 * 15)
}

/** Early stop for stable links. The warm-up is re-detected on the series so far. */
export function earlyStopDue (samples: readonly Sample[], bounds: WarmupBounds, rule: EarlyStopRule = EARLY_STOP, lastAddMs: number | null = null): boolean {
  const last = samples[samples.length - 1]
  const first = samples[0]
  if (last === undefined || first === undefined) return false
  const elapsed = last.tMs - first.tMs
  const tw = detectWarmupEnd(samples, bounds)
  if (tw === null) return false
  // The seconds after an add are left out of the window (goodput.ts), so they do not count here either.
  const from = Math.max(tw * 1000, lastAddMs === null ? 0 : lastAddMs - first.tMs + ADD_SETTLE_MS)
  if (elapsed - from < rule.minWindowMs) return false
  // The last three whole seconds, all inside the steady window (minWindowMs ≥ 3 s ensures it).
  const rates = [2000, 1000, 0].map((back) => rateOverSecondEndingAt(samples, last.tMs - back))
  const m = mean(rates)
  const cv = coefficientOfVariation(rates)
  return m !== null && m >= rule.minMbps && cv !== null && cv <= rule.maxCv
}
