import type { LinkLimitedRow } from '../storage/stores.js'
import { DISQUALIFYING_FLAGS } from '../../shared/schemas/result.js'

/**
 * Each line's lower bound from its link-limited results in the period (docs/methodology.md §11,
 * "Results at the machine's link"): the mean download of the speed results whose only
 * disqualifying flag is `local_link_limited` (status ok, confidence not low). Every such figure is
 * at most the line's real rate, so their mean is at most the line's mean: a lower bound of it.
 * These results stay out of the rollups, so they never enter an area's mean or median.
 */
export function linkLimitedLowerBounds (results: readonly LinkLimitedRow[]): Map<string, number> {
  const sums = new Map<string, { sum: number, n: number }>()
  for (const [agentId, mbps, flags] of results) {
    const list = flags.split(',')
    if (list.some((f) => f !== 'local_link_limited' && (DISQUALIFYING_FLAGS as readonly string[]).includes(f))) continue
    const s = sums.get(agentId) ?? { sum: 0, n: 0 }
    s.sum += mbps
    s.n++
    sums.set(agentId, s)
  }
  return new Map([...sums].map(([id, s]) => [id, s.sum / s.n]))
}
