/**
 * Clock handling at ingest (fleet-protocol.md §12): correct the agent's timestamp by its own
 * offset estimate when the estimate is fresh and the offset large enough to matter, and flag
 * what cannot be trusted. A result is never rejected for its clock alone.
 */
export const CLOCK_FLAGS = {
  CLOCK_UNKNOWN: 1, // the agent has no offset estimate
  CLOCK_SKEW: 2, // |offset| > 5 min
  FUTURE: 4, // still > 5 min after receipt after correction
  LATE: 8 // received > 7 days after measurement
} as const

const FIVE_MIN_MS = 5 * 60_000
const ONE_DAY_S = 86_400

export function correctClock ({ measuredAtMs, offsetMs, sinceSyncS, receivedAtMs }: {
  measuredAtMs: number
  offsetMs: number | null
  sinceSyncS: number | null
  receivedAtMs: number
}): { correctedMs: number, flags: number } {
  let flags = 0
  let corrected = measuredAtMs
  // The offset is collector time minus agent time, so the collector's view is agent time + offset.
  if (offsetMs === null || sinceSyncS === null) {
    flags |= CLOCK_FLAGS.CLOCK_UNKNOWN
  } else if (sinceSyncS <= ONE_DAY_S && Math.abs(offsetMs) >= 2000) {
    // Whole milliseconds, as every stored instant is (PostgreSQL's BIGINT refuses a fraction; an agent may send one).
    corrected = measuredAtMs + Math.round(offsetMs)
  }
  if (offsetMs !== null && Math.abs(offsetMs) > FIVE_MIN_MS) flags |= CLOCK_FLAGS.CLOCK_SKEW
  if (corrected - receivedAtMs > FIVE_MIN_MS) flags |= CLOCK_FLAGS.FUTURE
  if (receivedAtMs - corrected > 7 * ONE_DAY_S * 1000) flags |= CLOCK_FLAGS.LATE
  return { correctedMs: corrected, flags }
}
