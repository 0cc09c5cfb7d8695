import { percentileOfSorted } from '../../shared/stats.js'

/**
 * Sorted float64 arrays stored as SQLite blobs (little-endian, as Float64Array lays them out
 * on every platform Node supports). Reading one back is a copy, not a parse, which keeps
 * report reads over tens of thousands of rollup rows cheap.
 */
export function decode (blob: Buffer | Uint8Array | null | undefined): Float64Array {
  if (blob === null || blob === undefined || blob.byteLength === 0) return new Float64Array(0)
  // Copy: the Buffer from SQLite may not be 8-byte aligned.
  const out = new Float64Array(blob.byteLength / 8)
  new Uint8Array(out.buffer).set(blob)
  return out
}

export function encode (values: Float64Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength)
}

/** Index of the first element >= v. */
export function lowerBound (sorted: Float64Array, v: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((sorted[mid] as number) < v) lo = mid + 1
    else hi = mid
  }
  return lo
}

export function insertSorted (sorted: Float64Array, v: number): Float64Array {
  const i = lowerBound(sorted, v)
  const out = new Float64Array(sorted.length + 1)
  out.set(sorted.subarray(0, i), 0)
  out[i] = v
  out.set(sorted.subarray(i), i + 1)
  return out
}

/** Removes one element equal to v; throws when absent, because the rollup would then be wrong. */
export function removeSorted (sorted: Float64Array, v: number): Float64Array {
  const i = lowerBound(sorted, v)
  if (i >= sorted.length || sorted[i] !== v) throw new Error(`rollup inconsistency: sample ${v} not found among ${sorted.length}`)
  const out = new Float64Array(sorted.length - 1)
  out.set(sorted.subarray(0, i), 0)
  out.set(sorted.subarray(i + 1), i)
  return out
}

/** Type-7 percentile of an ascending array: the shared definition, so rollups and raw figures agree. */
export const percentileSorted: (s: Float64Array, p: number) => number | null = percentileOfSorted

export function sumOf (values: Float64Array): number {
  let s = 0
  for (let i = 0; i < values.length; i++) s += values[i] as number
  return s
}

/** Concatenates and sorts (typed-array sort is numeric). */
export function mergeAll (parts: readonly Float64Array[]): Float64Array {
  if (parts.length === 1) return parts[0] as Float64Array
  let n = 0
  for (const p of parts) n += p.length
  const out = new Float64Array(n)
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.length }
  return out.sort()
}

/** Median of an unsorted small list (an hour's tests). */
export function medianOf (values: readonly number[]): number | null {
  if (values.length === 0) return null
  return percentileSorted(Float64Array.from(values).sort(), 50)
}

function swapAt (a: Float64Array, i: number, j: number): void {
  const t = a[i] as number
  a[i] = a[j] as number
  a[j] = t
}

/**
 * Floyd–Rivest selection: reorders `a[left..right]` so that a[k] is the k-th smallest, smaller
 * ones before it and larger ones after. Linear on average: reports take two percentiles of
 * millions of samples without sorting them.
 */
export function selectKth (a: Float64Array, k: number, left = 0, right = a.length - 1): void {
  while (right > left) {
    if (right - left > 600) {
      const n = right - left + 1
      const m = k - left + 1
      const z = Math.log(n)
      const s = 0.5 * Math.exp(2 * z / 3)
      const sd = 0.5 * Math.sqrt(z * s * (n - s) / n) * (m - n / 2 < 0 ? -1 : 1)
      selectKth(a, k, Math.max(left, Math.floor(k - m * s / n + sd)), Math.min(right, Math.floor(k + (n - m) * s / n + sd)))
    }
    const t = a[k] as number
    let i = left
    let j = right
    swapAt(a, left, k)
    if ((a[right] as number) > t) swapAt(a, left, right)
    while (i < j) {
      swapAt(a, i, j)
      i++
      j--
      while ((a[i] as number) < t) i++
      while ((a[j] as number) > t) j--
    }
    if (a[left] === t) swapAt(a, left, j)
    else { j++; swapAt(a, j, right) }
    if (j <= k) left = j + 1
    if (k <= j) right = j - 1
  }
}

/**
 * Type-7 percentiles (as shared/stats.ts) of an unsorted array, by selection; `a` is reordered.
 * Same results as sorting and reading off the ranks.
 */
export function percentilesInPlace (a: Float64Array, ps: readonly number[]): Array<number | null> {
  const n = a.length
  if (n === 0) return ps.map(() => null)
  // Ascending ranks: after selecting one, everything left of it is smaller, so the next
  // selection only has to partition what lies to its right.
  const order = ps.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p)
  const out = new Array<number | null>(ps.length)
  let left = 0
  for (const { p, i } of order) {
    const rank = (p / 100) * (n - 1)
    const lo = Math.floor(rank)
    if (lo >= left) { selectKth(a, lo, left); left = lo }
    const x = a[lo] as number
    if (rank === lo) { out[i] = x; continue }
    // After selection everything right of lo is >= a[lo]; the next order statistic is their minimum.
    let y = Infinity
    for (let j = lo + 1; j < n; j++) if ((a[j] as number) < y) y = a[j] as number
    out[i] = x + (y - x) * (rank - lo)
  }
  return out
}

/**
 * A work array reused from one report to the next. A rolling 12-month report pools millions of
 * samples several times over (per area, per agent, per target); a fresh array for each is tens of
 * MB of zero-filled memory for the garbage collector to reclaim (it took about a fifth of a cold
 * report's time at 10 M results, and a sixth once these were reused: docs/reports.md). Arrays
 * up to `keepMax` elements are kept (grown by doubling); a larger one is allocated for that call
 * only, so what stays in memory is bounded.
 *
 * `take` returns a view whose contents are left over from earlier use, valid until the next
 * `take` on the same scratch: only for values used and dropped within one synchronous pass.
 */
export class Scratch {
  #buf = new Float64Array(0)

  constructor (private readonly keepMax = 1 << 21) {}

  take (n: number): Float64Array {
    if (n <= this.#buf.length) return this.#buf.subarray(0, n)
    if (n > this.keepMax) return new Float64Array(n)
    this.#buf = new Float64Array(Math.min(this.keepMax, Math.max(n, this.#buf.length * 2)))
    return this.#buf.subarray(0, n)
  }
}

/** Concatenates without sorting, into `scratch` when given (see Scratch), else into a new array. */
export function concat (parts: readonly Float64Array[], scratch?: Scratch): Float64Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = scratch === undefined ? new Float64Array(n) : scratch.take(n)
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.length }
  return out
}

/** How many values across sorted parts are >= v (or > v when strict). */
export function countAtLeast (sortedParts: readonly Float64Array[], v: number, strict = false): number {
  let c = 0
  for (const p of sortedParts) c += p.length - (strict ? upperBound(p, v) : lowerBound(p, v))
  return c
}

/** Index of the first element > v. */
export function upperBound (sorted: Float64Array, v: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((sorted[mid] as number) <= v) lo = mid + 1
    else hi = mid
  }
  return lo
}
