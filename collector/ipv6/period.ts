import { TocdoError } from '../../shared/errors.js'
import { MAX_YEAR, MIN_YEAR } from '../../shared/schemas/calendar.js'

/** A report period: a calendar month (YYYY-MM) or an ISO week (YYYY-Www), in UTC. */
export interface Period { id: string, kind: 'month' | 'week', from: number, to: number }

const DAY = 86_400_000

function isoWeekStart (year: number, week: number): number {
  // ISO week 1 contains 4 January; weeks start on Monday.
  const jan4 = Date.UTC(year, 0, 4)
  const dow = (new Date(jan4).getUTCDay() + 6) % 7
  return jan4 - dow * DAY + (week - 1) * 7 * DAY
}

function isoWeekOf (ms: number): { year: number, week: number } {
  const d = new Date(ms)
  const dow = (d.getUTCDay() + 6) % 7
  const thursday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - dow * DAY + 3 * DAY
  const year = new Date(thursday).getUTCFullYear()
  return { year, week: Math.floor((thursday - isoWeekStart(year, 1)) / (7 * DAY)) + 1 }
}

const weekId = (year: number, week: number): string => `${year}-W${String(week).padStart(2, '0')}`
const monthId = (ms: number): string => new Date(ms).toISOString().slice(0, 7)

export function parsePeriod (text: string | undefined, now: number): Period {
  const raw = text ?? monthId(now)
  const month = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(raw)
  if (month !== null) {
    const y = Number(month[1]); const m = Number(month[2]) - 1
    if (y < MIN_YEAR || y > MAX_YEAR) throw periodError(raw)
    return { id: raw, kind: 'month', from: Date.UTC(y, m, 1), to: Date.UTC(y, m + 1, 1) }
  }
  const week = /^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$/.exec(raw)
  if (week !== null) {
    const y = Number(week[1]); const w = Number(week[2])
    if (y < MIN_YEAR || y > MAX_YEAR) throw periodError(raw)
    const from = isoWeekStart(y, w)
    if (isoWeekOf(from).year !== y) throw periodError(raw)
    return { id: raw, kind: 'week', from, to: from + 7 * DAY }
  }
  if (raw === 'week') return parsePeriod(weekId(isoWeekOf(now).year, isoWeekOf(now).week), now)
  if (raw === 'month') return parsePeriod(monthId(now), now)
  throw periodError(raw)
}

function periodError (raw: string): TocdoError {
  return new TocdoError('TOCDO_ERR_VALIDATION', `period=${raw} is not a month (2026-11), an ISO week (2026-W47), "month" or "week", in the years ${MIN_YEAR}–${MAX_YEAR}`, { details: { field: 'period' } })
}

export function previousPeriod (p: Period): Period {
  if (p.kind === 'month') return parsePeriod(monthId(p.from - DAY), p.from)
  const { year, week } = isoWeekOf(p.from - DAY)
  return parsePeriod(weekId(year, week), p.from)
}
