/**
 * The connection a cache belongs to (a better-sqlite3 handle), as far as the cache needs it; a
 * structural type, so this module does not import the storage layer, which calls it.
 */
type Db = object & { pragma: (source: string, options: { simple: true }) => unknown }

/**
 * Decoded rollup rows per (province filter, month), kept in memory so a rolling 12-month report
 * reads only the months that changed since the last one: closed months change only when late
 * data arrives. Entries of a month are dropped when the rollup writer on this connection touches
 * that month, and everything is dropped when another connection has written to the database
 * (PRAGMA data_version), so a report never serves stale figures. Bounded by bytes, least recently
 * used first out. Cached rows are shared: report code must treat their sample arrays as read-only.
 */
export class MonthRowCache<T> {
  readonly #entries = new Map<string, { month: string, rows: T[], bytes: number }>()
  readonly #maxBytes: number
  #bytes = 0
  #dataVersion: number | null = null
  hits = 0
  misses = 0

  constructor (maxBytes: number) {
    this.#maxBytes = maxBytes
  }

  /** Call before a read: drops everything when another connection committed since the last read. */
  checkForeignWrites (db: Db): void {
    const v = db.pragma('data_version', { simple: true }) as number
    if (this.#dataVersion !== null && v !== this.#dataVersion) this.clear()
    this.#dataVersion = v
  }

  get (key: string): T[] | undefined {
    const e = this.#entries.get(key)
    if (e === undefined) { this.misses++; return undefined }
    this.hits++
    this.#entries.delete(key)
    this.#entries.set(key, e)
    return e.rows
  }

  set (key: string, month: string, rows: T[], bytes: number): void {
    if (bytes > this.#maxBytes / 4) return // one huge entry would evict everything else
    const old = this.#entries.get(key)
    if (old !== undefined) { this.#bytes -= old.bytes; this.#entries.delete(key) }
    this.#entries.set(key, { month, rows, bytes })
    this.#bytes += bytes
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break
      this.#entries.delete(k)
      this.#bytes -= e.bytes
    }
  }

  invalidateMonths (months: Iterable<string>): void {
    const set = new Set(months)
    for (const [k, e] of this.#entries) {
      if (set.has(e.month)) { this.#entries.delete(k); this.#bytes -= e.bytes }
    }
  }

  clear (): void {
    this.#entries.clear()
    this.#bytes = 0
  }

  get bytes (): number { return this.#bytes }
}

const caches = new WeakMap<Db, MonthRowCache<unknown>>()

/** Turns the cache on for a connection (the rollup plugin does, with the collector's database). */
export function enableMonthCache (db: Db, maxBytes = 256 * 1024 * 1024): void {
  if (!caches.has(db)) caches.set(db, new MonthRowCache(maxBytes))
}

export function monthCacheOf<T> (db: Db): MonthRowCache<T> | undefined {
  return caches.get(db) as MonthRowCache<T> | undefined
}

/** Called when the rollup tables are rebuilt as a whole: months may have disappeared, not only changed. */
export function rollupsReplaced (db: Db): void {
  caches.get(db)?.clear()
}

/** Called by the rollup writer with the months a batch touched, inside the ingest transaction. */
export function monthsChanged (db: Db, months: Iterable<string>): void {
  caches.get(db)?.invalidateMonths(months)
}
