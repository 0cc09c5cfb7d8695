import { TocdoError } from './errors.js'
import { isCalendarMonth, MAX_YEAR, MIN_YEAR } from './schemas/calendar.js'
import { addMonths, DAY_MS, monthStartMs, VN_OFFSET_MS, vnMonth } from './vn-time.js'

/**
 * The one report period, in Vietnam time (shared/vn-time.ts) for every report, the IPv6 report
 * included: "2026-10" starts at 2026-10-01 00:00 ICT everywhere, and an ISO week on Monday
 * 00:00 ICT.
 */
export interface Period {
  kind: 'month' | 'week' | 'rolling12' | 'all'
  /** First and last month included ('YYYY-MM'); for a week, its ISO id ('YYYY-Www') in both; null for 'all'. */
  from: string | null
  to: string | null
  /** The months the rollups are read for; null for 'all' and for a week (read by instant). */
  months: string[] | null
}

/** Which spellings a route accepts besides YYYY-MM: the rollup reports' or the IPv6 report's. */
export type PeriodForms = 'rollups' | 'weeks'

const WEEK = /^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$/

function parseMonth (field: string, value: string): string {
  if (!isCalendarMonth(value)) {
    throw new TocdoError('TOCDO_ERR_VALIDATION', `${field}=${value} is not a month: use YYYY-MM from ${MIN_YEAR}-01 to ${MAX_YEAR}-12 (e.g. 2026-10)`, { details: { field } })
  }
  return value
}

export function monthRange (from: string, to: string): string[] {
  const out: string[] = []
  for (let m = from; m <= to; m = addMonths(m, 1)) out.push(m)
  return out
}

const month = (m: string): Period => ({ kind: 'month', from: m, to: m, months: [m] })

/** Monday 00:00 of ISO week 1 (the week holding 4 January), as Vietnam wall-clock ms (UTC fields read ICT). */
function isoWeekOneWall (year: number): number {
  const jan4 = Date.UTC(year, 0, 4)
  return jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * DAY_MS
}

/** The ISO week id holding the instant, in Vietnam time. */
function weekOf (epochMs: number): string {
  const d = new Date(epochMs + VN_OFFSET_MS)
  const thursday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) + (3 - (d.getUTCDay() + 6) % 7) * DAY_MS
  const year = new Date(thursday).getUTCFullYear()
  const week = Math.floor((thursday - isoWeekOneWall(year)) / (7 * DAY_MS)) + 1
  return `${year}-W${String(week).padStart(2, '0')}`
}

function weekStartMs (id: string): number {
  const [, y, w] = WEEK.exec(id) as unknown as [string, string, string]
  return isoWeekOneWall(Number(y)) + (Number(w) - 1) * 7 * DAY_MS - VN_OFFSET_MS
}

function week (field: string, id: string): Period {
  const m = WEEK.exec(id)
  const y = Number(m?.[1])
  // A 53rd week exists only in years whose week 53 still belongs to them.
  if (m === null || y < MIN_YEAR || y > MAX_YEAR || weekOf(weekStartMs(id)) !== id) {
    throw new TocdoError('TOCDO_ERR_VALIDATION', `${field}=${id} is not an ISO week: use YYYY-Www (e.g. 2026-W47) in the years ${MIN_YEAR}–${MAX_YEAR}`, { details: { field } })
  }
  return { kind: 'week', from: id, to: id, months: null }
}

/**
 * The one period parser. Every route accepts YYYY-MM (also written month:YYYY-MM). The rollup
 * reports add rolling12 (12 months to end=YYYY-MM, default this month) and all; the IPv6
 * report adds ISO weeks YYYY-Www and "month" / "week" for the current ones. `fallback` is used
 * when no period is given.
 */
export function parsePeriod (period: string | undefined, end: string | undefined, fallback: 'rolling12' | 'all' | 'month', now = Date.now(), forms: PeriodForms = 'rollups'): Period {
  const p = period ?? fallback
  if (forms === 'rollups') {
    if (p === 'all') return { kind: 'all', from: null, to: null, months: null }
    if (p === 'rolling12') {
      const to = end === undefined ? vnMonth(now) : parseMonth('end', end)
      const from = addMonths(to, -11)
      return { kind: 'rolling12', from, to, months: monthRange(from, to) }
    }
  } else {
    if (p === 'week') return week('period', weekOf(now))
    if (/^\d{4}-W/.test(p)) return week('period', p)
  }
  if (p === 'month') return month(vnMonth(now))
  return month(parseMonth('period', p.replace(/^month:/, '')))
}

/** The period's name in replies: the month or week id, 'rolling12' or 'all'. */
export function periodId (p: Period): string {
  return p.kind === 'month' || p.kind === 'week' ? p.from as string : p.kind
}

/** Its instants [fromMs, toMs) in Vietnam time; null for 'all'. */
export function periodBounds (p: Period): { fromMs: number, toMs: number } | null {
  if (p.from === null || p.to === null) return null
  if (p.kind === 'week') {
    const fromMs = weekStartMs(p.from)
    return { fromMs, toMs: fromMs + 7 * DAY_MS }
  }
  return { fromMs: monthStartMs(p.from), toMs: monthStartMs(addMonths(p.to, 1)) }
}

/** The month or week before a month or week period. */
export function previousPeriod (p: Period): Period {
  const bounds = periodBounds(p)
  if (bounds === null || (p.kind !== 'month' && p.kind !== 'week')) throw new TypeError(`a ${p.kind} period has no previous one`)
  return p.kind === 'month' ? month(vnMonth(bounds.fromMs - 1)) : week('period', weekOf(bounds.fromMs - 1))
}

/** The year whose targets apply: the period's last month (a week's first), or the current year for 'all'. */
export function periodYear (p: Period, now = Date.now()): number {
  const last = p.to === null ? vnMonth(now) : p.kind === 'week' ? vnMonth(weekStartMs(p.to)) : p.to
  return Number(last.slice(0, 4))
}
