/**
 * Full-jitter exponential back-off (fleet-protocol.md §10): delay_n = uniform(30 s,
 * min(1800 s, 30 s × 2^n)), reset on success, no retry limit. Retry-After from the collector
 * is a floor: wait max(Retry-After, back-off).
 */
export const BACKOFF_BASE_MS = 30_000
export const BACKOFF_CAP_MS = 1_800_000

export function backoffDelayMs (attempt: number, random: () => number, base = BACKOFF_BASE_MS, cap = BACKOFF_CAP_MS): number {
  const upper = Math.min(cap, base * 2 ** Math.max(0, Math.min(attempt, 30)))
  return base + random() * (upper - base)
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3); null when absent or unreadable. */
export function parseRetryAfterMs (value: string | string[] | undefined, nowMs: number): number | null {
  const v = Array.isArray(value) ? value[0] : value
  if (v === undefined || v.trim() === '') return null
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs)
}
