import type { Db } from '../storage/db.js'
import { DISQUALIFYING_FLAGS } from '../../shared/schemas/result.js'
import type { Period } from './period.js'

/** ICT is UTC+7 all year (no daylight saving). */
const ICT_MS = 7 * 3_600_000

function monthStartMs (month: string): number {
  const [y, m] = month.split('-').map(Number) as [number, number]
  return Date.UTC(y, m - 1, 1) - ICT_MS
}

/**
 * Each line's lower bound from its link-limited results in the period (docs/methodology.md §11,
 * "Results at the machine's link"): the mean download of the speed results whose only
 * disqualifying flag is `local_link_limited` (status ok, confidence not low). Every such figure is
 * at most the line's real rate, so their mean is at most the line's mean: a lower bound of it.
 * These results stay out of the rollups, so they never enter an area's mean or median.
 */
export function linkLimitedLowerBounds (db: Db, period: Period): Map<string, number> {
  const args: number[] = []
  let when = ''
  if (period.from !== null && period.to !== null) {
    const [y, m] = period.to.split('-').map(Number) as [number, number]
    const next = `${m === 12 ? y + 1 : y}-${String(m === 12 ? 1 : m + 1).padStart(2, '0')}`
    when = ' AND measured_at_corr >= ? AND measured_at_corr < ?'
    args.push(monthStartMs(period.from), monthStartMs(next))
  }
  const rows = db.prepare(`SELECT agent_id, download_mbps, flags FROM result
    WHERE kind = 'speed' AND status = 'ok' AND valid = 0 AND download_mbps IS NOT NULL
      AND (confidence IS NULL OR confidence <> 'low') AND instr(flags, 'local_link_limited') > 0${when}`)
    .raw(true).all(...args) as Array<[string, number, string]>
  const sums = new Map<string, { sum: number, n: number }>()
  for (const [agentId, mbps, flags] of rows) {
    const list = flags.split(',')
    if (list.some((f) => f !== 'local_link_limited' && (DISQUALIFYING_FLAGS as readonly string[]).includes(f))) continue
    const s = sums.get(agentId) ?? { sum: 0, n: 0 }
    s.sum += mbps
    s.n++
    sums.set(agentId, s)
  }
  return new Map([...sums].map(([id, s]) => [id, s.sum / s.n]))
}
