/** Unit conversions with the unit in every name. Mbps here is 10^6 bit/s, as ISPs and i-Speed use it. */

export const BITS_PER_BYTE = 8

/** Throughput of `bytes` moved in `elapsedMs`; null when no time elapsed (never Infinity). */
export function bytesAndMsToMbps (bytes: number, elapsedMs: number): number | null {
  if (!(elapsedMs > 0) || !Number.isFinite(bytes) || bytes < 0) return null
  return (bytes * BITS_PER_BYTE) / (elapsedMs * 1e3)
}

/** Round for display and storage; measurement precision is far below 1e-3 Mbps. */
export function round (value: number, digits = 3): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

export function roundOrNull (value: number | null, digits = 3): number | null {
  return value === null ? null : round(value, digits)
}
