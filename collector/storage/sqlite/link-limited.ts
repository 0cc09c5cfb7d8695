import type { Db } from '../db.js'
import type { LinkLimitedRow } from '../stores.js'

/**
 * The speed results that may bound a line from below (docs/methodology.md §11, "Results at the
 * machine's link"): status ok, not low confidence, kept out of the figures (valid = 0) and
 * carrying `local_link_limited`, measured in [fromMs, toMs) when a range is given. Served by the
 * partial index of migration 041, so a report reads only these rows, not the result table.
 */
export function selectLinkLimitedResults (db: Db, range: { fromMs: number, toMs: number } | null): LinkLimitedRow[] {
  const when = range === null ? '' : ' AND measured_at_corr >= ? AND measured_at_corr < ?'
  const args = range === null ? [] : [range.fromMs, range.toMs]
  return db.prepare(`SELECT agent_id, download_mbps, flags FROM result
    WHERE kind = 'speed' AND status = 'ok' AND valid = 0 AND download_mbps IS NOT NULL
      AND (confidence IS NULL OR confidence <> 'low') AND instr(flags, 'local_link_limited') > 0${when}`)
    .raw(true).all(...args) as LinkLimitedRow[]
}
