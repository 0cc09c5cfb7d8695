/** Unit conversions with the unit in every name. Mbps here is 10^6 bit/s, as ISPs and i-Speed use it. */

export const BITS_PER_BYTE = 8

export function bytesPerSecondToMbps (bytesPerSecond: number): number {
  return (bytesPerSecond * BITS_PER_BYTE) / 1e6
}

/** Throughput of `bytes` moved in `elapsedMs`; null when no time elapsed (never Infinity). */
export function bytesAndMsToMbps (bytes: number, elapsedMs: number): number | null {
  if (!(elapsedMs > 0) || !Number.isFinite(bytes) || bytes < 0) return null
  return (bytes * BITS_PER_BYTE) / (elapsedMs * 1e3)
}

export function bytesAndSecondsToMbps (bytes: number, elapsedS: number): number | null {
  return bytesAndMsToMbps(bytes, elapsedS * 1000)
}

export function mbpsToBytesPerSecond (mbps: number): number {
  return (mbps * 1e6) / BITS_PER_BYTE
}

export function nsToMs (ns: bigint): number {
  return Number(ns) / 1e6
}

export function msToS (ms: number): number {
  return ms / 1000
}

/** Round for display and storage; measurement precision is far below 1e-3 Mbps. */
export function round (value: number, digits = 3): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

export function roundOrNull (value: number | null, digits = 3): number | null {
  return value === null ? null : round(value, digits)
}
