/**
 * Descriptive statistics over plain number arrays. Every function is pure, ignores no
 * value silently and returns null for an empty input: a missing figure is null, never 0.
 */

function sorted (values: readonly number[]): number[] {
  for (const v of values) {
    if (!Number.isFinite(v)) throw new RangeError(`statistics need finite numbers, got ${String(v)}`)
  }
  return [...values].sort((a, b) => a - b)
}

export function sum (values: readonly number[]): number {
  let s = 0
  for (const v of values) s += v
  return s
}

export function mean (values: readonly number[]): number | null {
  if (values.length === 0) return null
  return sum(values) / values.length
}

/**
 * Percentile by linear interpolation between closest ranks (type 7, the default of R,
 * NumPy and Excel's PERCENTILE.INC), so figures can be checked by hand in a spreadsheet.
 * `p` is in [0, 100].
 */
export function percentile (values: readonly number[], p: number): number | null {
  if (p < 0 || p > 100 || Number.isNaN(p)) throw new RangeError(`percentile p must be in [0, 100], got ${p}`)
  if (values.length === 0) return null
  const s = sorted(values)
  return percentileOfSorted(s, p)
}

/** Type-7 percentile of an ascending series (plain array or typed array). */
export function percentileOfSorted (s: ArrayLike<number>, p: number): number | null {
  if (s.length === 0) return null
  const rank = (p / 100) * (s.length - 1)
  const lo = Math.floor(rank)
  const hi = Math.ceil(rank)
  const a = s[lo] as number
  const b = s[hi] as number
  return a + (b - a) * (rank - lo)
}

export function median (values: readonly number[]): number | null {
  return percentile(values, 50)
}

export function min (values: readonly number[]): number | null {
  if (values.length === 0) return null
  let m = Infinity
  for (const v of values) if (v < m) m = v
  return m
}

export function max (values: readonly number[]): number | null {
  if (values.length === 0) return null
  let m = -Infinity
  for (const v of values) if (v > m) m = v
  return m
}

/**
 * Interquartile mean: the mean of the values between the 25th and 75th percentile
 * positions. Uses the standard discrete definition on n values (drop floor(n/4) from each
 * end), with fractional weights when n is not a multiple of 4, as Ookla's loaded latency IQM does.
 */
export function interquartileMean (values: readonly number[]): number | null {
  const n = values.length
  if (n === 0) return null
  if (n < 4) return mean(values)
  const s = sorted(values)
  const q = n / 4
  const whole = Math.floor(q)
  const frac = q - whole
  let total = 0
  for (let i = whole + 1; i < n - whole - 1; i++) total += s[i] as number
  // The two boundary values carry the fractional weight left after dropping `q` from each end.
  const edgeWeight = 1 - frac
  total += edgeWeight * ((s[whole] as number) + (s[n - whole - 1] as number))
  return total / (n / 2)
}

/** Population standard deviation (divides by n), the usual choice for a complete series. */
export function stddev (values: readonly number[]): number | null {
  const m = mean(values)
  if (m === null) return null
  let acc = 0
  for (const v of values) acc += (v - m) ** 2
  return Math.sqrt(acc / values.length)
}

/** Coefficient of variation = stddev ÷ mean; null for an empty series or a zero mean. */
export function coefficientOfVariation (values: readonly number[]): number | null {
  const m = mean(values)
  const sd = stddev(values)
  if (m === null || sd === null || m === 0) return null
  return sd / m
}

/** Jitter as Cloudflare defines it: mean absolute difference of consecutive samples. */
export function meanAbsoluteDelta (values: readonly number[]): number | null {
  if (values.length < 2) return null
  let acc = 0
  for (let i = 1; i < values.length; i++) acc += Math.abs((values[i] as number) - (values[i - 1] as number))
  return acc / (values.length - 1)
}

/** RFC 3550 §6.4.1 smoothed jitter, J += (|D| - J) / 16, as iperf3 reports for UDP. */
export function rfc3550Jitter (values: readonly number[]): number | null {
  if (values.length < 2) return null
  let j = 0
  for (let i = 1; i < values.length; i++) {
    const d = Math.abs((values[i] as number) - (values[i - 1] as number))
    j += (d - j) / 16
  }
  return j
}

/**
 * Trimmed mean dropping the lowest `lowFraction` and highest `highFraction` of the values
 * (legacy Ookla: 30 % slowest and 10 % fastest of 20 slices).
 */
export function trimmedMean (values: readonly number[], lowFraction: number, highFraction: number): number | null {
  if (values.length === 0) return null
  const s = sorted(values)
  const lo = Math.floor(s.length * lowFraction)
  const hi = s.length - Math.floor(s.length * highFraction)
  if (hi <= lo) return null
  return mean(s.slice(lo, hi))
}
