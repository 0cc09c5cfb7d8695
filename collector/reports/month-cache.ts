import type { MonthRow, MonthRowsRead, RollupFilter, RollupReader } from '../storage/stores.js'

/**
 * Decoded rollup rows per (province filter, month), kept in memory so a rolling 12-month report
 * reads only the months that changed since the last one: closed months change only when late
 * data arrives. Bounded by bytes, least recently used first out. Cached rows are shared: report
 * code must treat their sample arrays as read-only.
 */
export class MonthRowCache<T> {
  readonly #entries = new Map<string, { month: string, rows: T[], bytes: number }>()
  readonly #maxBytes: number
  #bytes = 0
  hits = 0
  misses = 0

  constructor (maxBytes: number) {
    this.#maxBytes = maxBytes
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

const keyOf = (filter: RollupFilter, month: string): string => filter.column === null ? `*||${month}` : `${filter.column}|${filter.code}|${month}`

/**
 * Any RollupReader with the month cache in front of `rowsByMonth`. Before each read it asks the
 * store what changed since the generation it last saw (the store's change signal: the rollup
 * writer's months and, on SQLite, PRAGMA data_version for other connections) and drops those
 * months, or everything, so a report never serves stale figures. Rows read at a generation other
 * than the one just checked are served but not kept: a commit landed in between. Every other
 * method is the store's own.
 */
export class CachedRollupReader implements RollupReader {
  readonly cache: MonthRowCache<MonthRow>
  #seen: number | null = null

  constructor (private readonly reader: RollupReader, maxBytes = 256 * 1024 * 1024) {
    this.cache = new MonthRowCache<MonthRow>(maxBytes)
  }

  async rowsByMonth (filter: RollupFilter, months: readonly string[], now: number): Promise<MonthRowsRead> {
    const changes = await this.reader.changesSince(this.#seen)
    if (changes.months === 'all') this.cache.clear()
    else if (changes.months.length > 0) this.cache.invalidateMonths(changes.months)
    const generation = this.#seen = changes.generation
    const out = new Map<string, MonthRow[]>()
    const missing: string[] = []
    for (const month of months) {
      const rows = this.cache.get(keyOf(filter, month))
      if (rows === undefined) missing.push(month)
      else out.set(month, rows)
    }
    if (missing.length > 0) {
      const read = await this.reader.rowsByMonth(filter, missing, now)
      const keep = read.generation === generation && this.#seen === generation
      for (const month of missing) {
        const rows = read.months.get(month) ?? []
        out.set(month, rows)
        if (!keep) continue
        let bytes = 200 * rows.length
        for (const r of rows) bytes += r.repDown.byteLength + r.repUp.byteLength + r.repIdle.byteLength
        this.cache.set(keyOf(filter, month), month, rows, bytes)
      }
    }
    return { generation, months: out }
  }

  rowsInRange: RollupReader['rowsInRange'] = async (...a) => await this.reader.rowsInRange(...a)
  changesSince: RollupReader['changesSince'] = async (...a) => await this.reader.changesSince(...a)
  monthPacksMissing: RollupReader['monthPacksMissing'] = async (...a) => await this.reader.monthPacksMissing(...a)
  buildMonthPack: RollupReader['buildMonthPack'] = async (...a) => await this.reader.buildMonthPack(...a)
  enrolledByArea: RollupReader['enrolledByArea'] = async (...a) => await this.reader.enrolledByArea(...a)
  enrolledAgencies: RollupReader['enrolledAgencies'] = async (...a) => await this.reader.enrolledAgencies(...a)
  agencyPlans: RollupReader['agencyPlans'] = async () => await this.reader.agencyPlans()
  contextRows: RollupReader['contextRows'] = async (...a) => await this.reader.contextRows(...a)
  agencyDetail: RollupReader['agencyDetail'] = async (...a) => await this.reader.agencyDetail(...a)
  setApartInProvince: RollupReader['setApartInProvince'] = async (...a) => await this.reader.setApartInProvince(...a)
  provinceChoices: RollupReader['provinceChoices'] = async (...a) => await this.reader.provinceChoices(...a)
}
