import type { Db } from './db.js'

/**
 * Retention of raw results (docs/operations.md): rows measured before the cutoff are deleted
 * in small batches, each its own short transaction, so ingest commits between them. Only the
 * `result` table is touched: the report rollups (rollup_agent_hour, rollup_agent_month) were
 * built when the rows arrived and stay as they are, so reports over old months are unchanged.
 */
export class ResultRetention {
  readonly #db: Db
  readonly #deleteBatch

  constructor (db: Db) {
    this.#db = db
    // rowid order follows arrival, so the oldest rows are found near the start of the table.
    this.#deleteBatch = db.prepare('DELETE FROM result WHERE rowid IN (SELECT rowid FROM result WHERE measured_at_corr < ? ORDER BY rowid LIMIT ?)')
  }

  /** Deletes one batch; returns how many rows went. */
  deleteBatch (cutoffMs: number, batchRows: number): number {
    return this.#db.transaction(() => this.#deleteBatch.run(cutoffMs, batchRows).changes)()
  }
}

/** Deletes every result measured before `cutoffMs`, `batchRows` at a time, yielding to the event loop between batches. */
export async function applyRetention (retention: ResultRetention, cutoffMs: number, batchRows: number): Promise<number> {
  let total = 0
  for (;;) {
    const n = retention.deleteBatch(cutoffMs, batchRows)
    total += n
    if (n < batchRows) return total
    await new Promise((resolve) => setImmediate(resolve))
  }
}
