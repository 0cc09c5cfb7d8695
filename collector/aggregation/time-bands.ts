import { CLOCK_FLAGS } from '../ingest/clock.js'

/**
 * Clock arithmetic for rollups, in Vietnam time (ICT, UTC+07:00, no daylight saving). Agencies'
 * busy hours are office hours (methodology.md §13), not FCC MBA's 19:00–23:00, so three bands:
 * office, evening and the rest. A result whose timestamp cannot be trusted gets band 'unknown'
 * and leaves only the hour-of-day splits (fleet-protocol.md §15).
 */
export const ICT_OFFSET_MS = 7 * 3_600_000
const HOUR_MS = 3_600_000

export type TimeBand = 'office' | 'evening' | 'other' | 'unknown'

/** Office hours on working days (Mon–Fri): 08:00–11:30 and 13:30–17:00 ICT, in minutes of the day. */
export const OFFICE_WINDOWS_MIN: ReadonlyArray<readonly [number, number]> = [[8 * 60, 11 * 60 + 30], [13 * 60 + 30, 17 * 60]]
export const EVENING_WINDOW_MIN: readonly [number, number] = [19 * 60, 23 * 60]

export const TIME_BAND_LABELS = {
  office: 'Mon–Fri 08:00–11:30 and 13:30–17:00 ICT (agency busy hours)',
  evening: '19:00–23:00 ICT, every day (FCC MBA household peak)',
  other: 'every other hour',
  unknown: 'clock not trusted (no offset estimate, skew > 5 min or future timestamp): counted in every figure except time-band rows'
} as const

/** A LATE result (received > 7 days after it was measured) has a good clock; only these make the time unknown. */
const UNTRUSTED_CLOCK = CLOCK_FLAGS.CLOCK_UNKNOWN | CLOCK_FLAGS.CLOCK_SKEW | CLOCK_FLAGS.FUTURE

export function timeBand (epochMs: number, clockFlags: number): TimeBand {
  if ((clockFlags & UNTRUSTED_CLOCK) !== 0) return 'unknown'
  const local = new Date(epochMs + ICT_OFFSET_MS)
  const minute = local.getUTCHours() * 60 + local.getUTCMinutes()
  const day = local.getUTCDay()
  if (day >= 1 && day <= 5 && OFFICE_WINDOWS_MIN.some(([a, b]) => minute >= a && minute < b)) return 'office'
  if (minute >= EVENING_WINDOW_MIN[0] && minute < EVENING_WINDOW_MIN[1]) return 'evening'
  return 'other'
}

/** 'YYYY-MM' of the ICT calendar month holding the instant. */
export function ictMonth (epochMs: number): string {
  return new Date(epochMs + ICT_OFFSET_MS).toISOString().slice(0, 7)
}

/** Start of the clock hour holding the instant; ICT's whole-hour offset makes it the UTC hour. */
export function hourStart (epochMs: number): number {
  return Math.floor(epochMs / HOUR_MS) * HOUR_MS
}

/** The first instant (epoch ms) of an ICT month 'YYYY-MM'. */
export function monthStartMs (month: string): number {
  const [y, m] = month.split('-').map(Number) as [number, number]
  return Date.UTC(y, m - 1, 1) - ICT_OFFSET_MS
}

export function addMonths (month: string, delta: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number]
  const d = new Date(Date.UTC(y, m - 1 + delta, 1))
  return d.toISOString().slice(0, 7)
}
