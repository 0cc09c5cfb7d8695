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

/** Type-7 percentile of an ascending array (same definition as shared/stats.ts). */
export function percentileSorted (s: Float64Array, p: number): number | null {
  if (s.length === 0) return null
  const rank = (p / 100) * (s.length - 1)
  const lo = Math.floor(rank)
  const hi = Math.ceil(rank)
  const a = s[lo] as number
  const b = s[hi] as number
  return a + (b - a) * (rank - lo)
}

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
