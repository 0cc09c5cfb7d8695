/**
 * Vietnam time, the one calendar of the project: agencies, schedules, time bands and report
 * months all use Asia/Ho_Chi_Minh (ICT), UTC+07:00 all year with no daylight saving, so a fixed
 * offset is exact and needs no tz database (docs/methodology.md §13). Pure: no clock is read here.
 */
export const VN_TIME_ZONE = 'Asia/Ho_Chi_Minh'
export const VN_OFFSET_MS = 7 * 3_600_000
export const DAY_MS = 86_400_000

/** A daily window 'HH:MM'–'HH:MM' in Vietnam time, end excluded. */
export interface ClockWindow { start: string, end: string }

/** Agencies' busy hours (working days): docs/methodology.md §13, the office band of the reports. */
export const OFFICE_WINDOWS: readonly ClockWindow[] = [{ start: '08:00', end: '11:30' }, { start: '13:30', end: '17:00' }]
/** Every day: FCC MBA's household peak (docs/methodology.md §13). */
export const EVENING_WINDOW: ClockWindow = { start: '19:00', end: '23:00' }

/** 'HH:MM' → seconds after midnight. */
export function hhmmToS (hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number)
  return (h ?? 0) * 3600 + (m ?? 0) * 60
}

/** The instant shifted so its UTC fields read Vietnam wall-clock time. */
function wall (epochMs: number): Date {
  return new Date(epochMs + VN_OFFSET_MS)
}

/** 'YYYY-MM' of the Vietnam calendar month holding the instant. */
export function vnMonth (epochMs: number): string {
  return wall(epochMs).toISOString().slice(0, 7)
}

/** 'HH:MM' in Vietnam time, for logs and status lines. */
export function vnHhmm (epochMs: number): string {
  return wall(epochMs).toISOString().slice(11, 16)
}

/** Minutes after Vietnam midnight and the Vietnam weekday (0 = Sunday) of the instant. */
export function vnClock (epochMs: number): { minute: number, weekday: number } {
  const d = wall(epochMs)
  return { minute: d.getUTCHours() * 60 + d.getUTCMinutes(), weekday: d.getUTCDay() }
}

/** Epoch ms of Vietnam midnight starting the day that holds the instant. */
export function vnDayStart (epochMs: number): number {
  return Math.floor((epochMs + VN_OFFSET_MS) / DAY_MS) * DAY_MS - VN_OFFSET_MS
}

/** Whole Vietnam days left in the month, counting the current one. */
export function vnDaysLeftInMonth (epochMs: number): number {
  const d = wall(epochMs)
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate()
  return last - d.getUTCDate() + 1
}

/** The first instant (epoch ms) of a Vietnam month 'YYYY-MM'. */
export function monthStartMs (month: string): number {
  const [y, m] = month.split('-').map(Number) as [number, number]
  return Date.UTC(y, m - 1, 1) - VN_OFFSET_MS
}

/** 'YYYY-MM' `delta` months after (or before) `month`. */
export function addMonths (month: string, delta: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number]
  return new Date(Date.UTC(y, m - 1 + delta, 1)).toISOString().slice(0, 7)
}

/** The last `n` Vietnam months up to the one holding the instant, newest first. */
export function recentMonths (epochMs: number, n: number): string[] {
  const now = vnMonth(epochMs)
  return Array.from({ length: n }, (_, i) => addMonths(now, -i))
}
