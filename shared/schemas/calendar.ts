/**
 * Dates as the wire carries them, checked against the calendar: JavaScript's Date.parse
 * quietly turns 2025-02-31 into 3 March and accepts 24:00, so every timestamp and month in a
 * request goes through these instead.
 */

/** Plausible years for any date the collector stores or reports on: a machine whose clock lost its battery may say 1970; nothing we measure is later than 2199. */
export const MIN_YEAR = 1970
export const MAX_YEAR = 2199

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|([+-])(\d{2}):(\d{2}))$/i
const MONTH = /^(\d{4})-(\d{2})$/

function daysIn (year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate()
}

/** RFC 3339 date-time on a real calendar day and clock time, year MIN_YEAR..MAX_YEAR. */
export function isCalendarDateTime (value: string): boolean {
  const m = DATE_TIME.exec(value)
  if (m === null) return false
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number]
  if (year < MIN_YEAR || year > MAX_YEAR || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return false
  if (hour > 23 || minute > 59 || second > 59) return false
  if (m[7] !== undefined && (Number(m[8]) > 23 || Number(m[9]) > 59)) return false
  return !Number.isNaN(Date.parse(value))
}

/** 'YYYY-MM' with a real month, year MIN_YEAR..MAX_YEAR. */
export function isCalendarMonth (value: string): boolean {
  const m = MONTH.exec(value)
  if (m === null) return false
  const year = Number(m[1])
  const month = Number(m[2])
  return year >= MIN_YEAR && year <= MAX_YEAR && month >= 1 && month <= 12
}

/** Pattern form of isCalendarMonth for schemas (OpenAPI shows it): 1970-01 … 2199-12. */
export const CALENDAR_MONTH_PATTERN = '^(19[7-9][0-9]|20[0-9]{2}|21[0-9]{2})-(0[1-9]|1[0-2])$'
