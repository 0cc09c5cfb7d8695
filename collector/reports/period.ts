import { TocdoError } from '../../shared/errors.js'
import { isCalendarMonth, MAX_YEAR, MIN_YEAR } from '../../shared/schemas/calendar.js'
import { addMonths, vnMonth } from '../../shared/vn-time.js'

export interface Period {
  kind: 'month' | 'rolling12' | 'all'
  /** First and last month included; null for 'all'. */
  from: string | null
  to: string | null
  months: string[] | null
}

function parseMonth (field: string, value: string): string {
  if (!isCalendarMonth(value)) {
    throw new TocdoError('TOCDO_ERR_VALIDATION', `${field} must be a month as YYYY-MM from ${MIN_YEAR}-01 to ${MAX_YEAR}-12 (e.g. 2026-10), got "${value}"`, { details: { field } })
  }
  return value
}

export function monthRange (from: string, to: string): string[] {
  const out: string[] = []
  for (let m = from; m <= to; m = addMonths(m, 1)) out.push(m)
  return out
}

/** period=YYYY-MM | rolling12 (with end=YYYY-MM, default this ICT month) | all. */
export function parsePeriod (period: string | undefined, end: string | undefined, fallback: 'rolling12' | 'all', now = Date.now()): Period {
  const p = period ?? fallback
  if (p === 'all') return { kind: 'all', from: null, to: null, months: null }
  if (p === 'rolling12') {
    const to = end === undefined ? vnMonth(now) : parseMonth('end', end)
    const from = addMonths(to, -11)
    return { kind: 'rolling12', from, to, months: monthRange(from, to) }
  }
  const m = parseMonth('period', p.replace(/^month:/, ''))
  return { kind: 'month', from: m, to: m, months: [m] }
}

/** The year whose targets apply: the period's last month, or the current year for 'all'. */
export function periodYear (p: Period, now = Date.now()): number {
  return Number((p.to ?? vnMonth(now)).slice(0, 4))
}
