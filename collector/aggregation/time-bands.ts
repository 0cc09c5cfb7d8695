import { CLOCK_FLAGS } from '../ingest/clock.js'
import { EVENING_WINDOW, hhmmToS, OFFICE_WINDOWS, vnClock, type ClockWindow } from '../../shared/vn-time.js'

/**
 * Time bands for rollups, in Vietnam time (shared/vn-time.ts holds the clock and the windows). Agencies'
 * busy hours are office hours (methodology.md §13), not FCC MBA's 19:00–23:00, so three bands:
 * office, evening and the rest. A result whose timestamp cannot be trusted gets band 'unknown'
 * and leaves only the hour-of-day splits (fleet-protocol.md §15).
 */
const HOUR_MS = 3_600_000

export type TimeBand = 'office' | 'evening' | 'other' | 'unknown'

/** Office hours on working days (Mon–Fri) and the evening window, in minutes of the Vietnam day. */
const minutes = (w: ClockWindow): readonly [number, number] => [hhmmToS(w.start) / 60, hhmmToS(w.end) / 60]
const OFFICE_WINDOWS_MIN = OFFICE_WINDOWS.map(minutes)
const EVENING_WINDOW_MIN = minutes(EVENING_WINDOW)
const span = (w: ClockWindow): string => `${w.start}–${w.end}`

export const TIME_BAND_LABELS = {
  office: `Mon–Fri ${OFFICE_WINDOWS.map(span).join(' and ')} ICT (agency busy hours)`,
  evening: `${span(EVENING_WINDOW)} ICT, every day (FCC MBA household peak)`,
  other: 'every other hour',
  unknown: 'clock not trusted (no offset estimate, skew > 5 min or future timestamp): counted in every figure except time-band rows'
} as const

/** A LATE result (received > 7 days after it was measured) has a good clock; only these make the time unknown. */
const UNTRUSTED_CLOCK = CLOCK_FLAGS.CLOCK_UNKNOWN | CLOCK_FLAGS.CLOCK_SKEW | CLOCK_FLAGS.FUTURE

export function timeBand (epochMs: number, clockFlags: number): TimeBand {
  if ((clockFlags & UNTRUSTED_CLOCK) !== 0) return 'unknown'
  const { minute, weekday: day } = vnClock(epochMs)
  if (day >= 1 && day <= 5 && OFFICE_WINDOWS_MIN.some(([a, b]) => minute >= a && minute < b)) return 'office'
  if (minute >= EVENING_WINDOW_MIN[0] && minute < EVENING_WINDOW_MIN[1]) return 'evening'
  return 'other'
}

/** Start of the clock hour holding the instant; ICT's whole-hour offset makes it the UTC hour. */
export function hourStart (epochMs: number): number {
  return Math.floor(epochMs / HOUR_MS) * HOUR_MS
}
