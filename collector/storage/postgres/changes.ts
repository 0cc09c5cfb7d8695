import type pg from 'pg'
import type { RollupChanges } from '../stores.js'

type Queryable = Pick<pg.ClientBase, 'query'>

/**
 * The rollups' change signal on PostgreSQL (RollupReader.changesSince), across collectors.
 *
 * Every transaction that changes rollup rows raises, in the same transaction, the generation of
 * each month it touched in `rollup_change` (migration 020; a rebuild raises the row '*'), so
 * the signal commits with the rows. A reader keeps the generations it last saw and compares:
 * the months whose generation moved are the months changed, by this collector or by any
 * other; '*' moving means 'all'. Comparing committed values has no gaps to miss, unlike
 * counting notifications. The reader's own generation is a local counter, raised each time it
 * sees something move, with the months of each step kept for callers a few steps behind.
 *
 * A change made outside the store (a manual fix through psql) raises '*' through migration
 * 020's trigger, so every reader answers 'all'.
 *
 * Rows read in a snapshot older than the newest one this reader has compared are reported at
 * generation -1, so the month cache never keeps them.
 */
const KEEP = 256

/** Set at the start of every store transaction that changes rollup rows: it raises its months itself (migration 020's trigger then stays quiet). */
export const SIGNALLED = "SET LOCAL tocdo.rollup_signalled = 'on'"

export const BUMP_MONTHS_SQL = `INSERT INTO rollup_change (month, generation)
  SELECT m, 1 FROM unnest($1::text[]) WITH ORDINALITY AS u(m, o) ORDER BY o
  ON CONFLICT (month) DO UPDATE SET generation = rollup_change.generation + 1`

/** Raises the generation of each month, in one sorted order (two collectors queue on a month's row, never deadlock). Last in its transaction: the row stays locked only until the commit. */
export async function bumpMonths (client: Queryable, months: Iterable<string>): Promise<void> {
  const sorted = [...new Set(months)].sort()
  if (sorted.length > 0) await client.query(BUMP_MONTHS_SQL, [sorted])
}

/**
 * bumpMonths as statement text followed by COMMIT, for one simple-protocol round trip: the
 * months' rows are locked by every group of every collector, so each is held only from the
 * bump to the commit's flush, not also while the COMMIT travels. The months are literals, so
 * only 'YYYY-MM' and '*' are accepted.
 */
export function bumpMonthsAndCommitSql (months: Iterable<string>): string {
  const sorted = [...new Set(months)].sort()
  for (const m of sorted) if (!/^(\d{4}-\d{2}|\*)$/.test(m)) throw new Error(`not a month: ${JSON.stringify(m)}`)
  if (sorted.length === 0) return 'COMMIT'
  return `${BUMP_MONTHS_SQL.replace('$1::text[]', `ARRAY[${sorted.map((m) => `'${m}'`).join(', ')}]::text[]`)}; COMMIT`
}

export class RollupChangeLog {
  #generation = 0
  #seen: Map<string, number> | null = null
  readonly #entries: Array<{ generation: number, months: readonly string[] | null }> = []

  /** The generations as committed (read in the caller's snapshot). */
  static async read (client: Queryable): Promise<Map<string, number>> {
    const { rows } = await client.query<{ month: string, generation: number }>('SELECT month, generation FROM rollup_change')
    return new Map(rows.map((r) => [r.month, Number(r.generation)]))
  }

  /**
   * Compares a snapshot's generations with the ones seen before; returns this reader's
   * generation for that snapshot (-1 when the snapshot is older than one already compared).
   */
  observe (state: Map<string, number>): number {
    const seen = this.#seen
    if (seen === null) {
      this.#seen = state
      this.#record(null)
      return this.#generation
    }
    const changed: string[] = []
    let older = false
    for (const [month, g] of state) {
      const before = seen.get(month)
      if (before === undefined || g > before) changed.push(month)
      else if (g < before) older = true
    }
    for (const month of seen.keys()) if (!state.has(month)) older = true
    if (older) return -1
    if (changed.length === 0) return this.#generation
    for (const m of changed) seen.set(m, state.get(m) as number)
    this.#record(changed.includes('*') ? null : changed)
    return this.#generation
  }

  #record (months: readonly string[] | null): void {
    this.#generation++
    this.#entries.push({ generation: this.#generation, months })
    if (this.#entries.length > KEEP) this.#entries.splice(0, this.#entries.length - KEEP)
  }

  /** What changed since a generation this reader answered before. */
  since (since: number | null): RollupChanges {
    const generation = this.#generation
    if (since === null) return { generation, months: 'all' }
    if (since === generation) return { generation, months: [] }
    const first = this.#entries[0]
    if (first === undefined || since < first.generation - 1 || since > generation) return { generation, months: 'all' }
    const months = new Set<string>()
    for (const e of this.#entries) {
      if (e.generation <= since) continue
      if (e.months === null) return { generation, months: 'all' }
      for (const m of e.months) months.add(m)
    }
    return { generation, months: [...months] }
  }
}
