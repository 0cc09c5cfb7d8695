import type { Db } from '../db.js'

/**
 * The rollups' change signal on SQLite (RollupReader.changesSince). Writes on the collector's own
 * connection are told here by the rollup writer, inside its transaction, with the months they
 * touch; writes by another connection (another process) are noticed through PRAGMA data_version,
 * which moves only when a different connection commits, and count as 'all'. A generation moves
 * on every change; a caller that has seen generation g asks what changed since g.
 */
interface Log { generation: number, dataVersion: number | null, entries: Array<{ generation: number, months: readonly string[] | null }> }

const KEEP = 256
const logs = new WeakMap<Db, Log>()

function logOf (db: Db): Log {
  let l = logs.get(db)
  if (l === undefined) { l = { generation: 0, dataVersion: null, entries: [] }; logs.set(db, l) }
  return l
}

function record (l: Log, months: readonly string[] | null): void {
  l.generation++
  l.entries.push({ generation: l.generation, months })
  if (l.entries.length > KEEP) l.entries.splice(0, l.entries.length - KEEP)
}

/** Called by the rollup writer with the months a batch touched, inside the ingest transaction. */
export function rollupMonthsChanged (db: Db, months: Iterable<string>): void {
  record(logOf(db), [...months])
}

/** Called when the rollup tables are rebuilt as a whole: months may have disappeared, not only changed. */
export function rollupsReplaced (db: Db): void {
  record(logOf(db), null)
}

/** The current generation, after noting a commit by another connection. */
export function rollupGeneration (db: Db): number {
  const l = logOf(db)
  const v = db.pragma('data_version', { simple: true }) as number
  if (l.dataVersion !== null && v !== l.dataVersion) record(l, null)
  l.dataVersion = v
  return l.generation
}

// Shaped as RollupChanges (stores.ts), not typed by it: the rollup writer imports this module, and stores.ts imports the rows' type from the writer.
export function rollupChangesSince (db: Db, since: number | null): { generation: number, months: readonly string[] | 'all' } {
  const generation = rollupGeneration(db)
  const l = logOf(db)
  if (since === null) return { generation, months: 'all' }
  if (since === generation) return { generation, months: [] }
  const first = l.entries[0]
  if (first === undefined || since < first.generation - 1 || since > generation) return { generation, months: 'all' }
  const months = new Set<string>()
  for (const e of l.entries) {
    if (e.generation <= since) continue
    if (e.months === null) return { generation, months: 'all' }
    for (const m of e.months) months.add(m)
  }
  return { generation, months: [...months] }
}
