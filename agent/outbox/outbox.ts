import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { ItemAck } from '../../shared/schemas/result.js'
import { openDatabase, type SqlDatabase, type SqliteDriverName } from './sqlite-driver.js'

/**
 * The agent's transactional outbox (fleet-protocol.md §6). A result is committed here before
 * any upload and deleted only when the collector acknowledges that very item as accepted or
 * duplicate. SQLite in WAL mode with synchronous=FULL: agency desktops are switched off at the
 * wall, and a committed result must survive that (home-made disk queues did not: Fluent Bit
 * #6995, Vector #17644).
 *
 * There is no in-flight state: exactly one flusher runs per data dir (see lock.ts), and a row
 * stays pending until its ack arrives, so a crash mid-upload simply re-sends it and the
 * collector answers `duplicate`.
 */
export const OUTBOX_FILE = 'outbox.sqlite'

export interface OutboxLimits { maxRows: number, maxBytes: number, maxAgeMs: number, deadKeepMs: number }

export const OUTBOX_LIMITS: Readonly<OutboxLimits> = {
  maxRows: 100_000,
  maxBytes: 50 * 1024 * 1024,
  maxAgeMs: 90 * 86_400_000,
  /** Dead letters are kept this long for inspection and export, then purged. */
  deadKeepMs: 30 * 86_400_000
}

export type CounterName = 'skippedCrossTraffic' | 'skippedBudget' | 'storageFull' | 'missedSlots' | 'expired'
export const COUNTER_NAMES: readonly CounterName[] = ['skippedCrossTraffic', 'skippedBudget', 'storageFull', 'missedSlots', 'expired']

export interface PendingRow { seq: number, resultId: string, kind: string, createdAt: number, body: string, bytes: number }
export interface QueueStats { pending: number, oldestAgeS: number | null, dead: number, bytes: number }
export interface DeadRow { seq: number, resultId: string, kind: string, status: string, reason: string, field: string | null, deadAt: number }
export interface AckOutcome { deleted: number, dead: number, untouched: number }
export type CapState = { full: false } | { full: true, reason: string }

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  result_id  TEXT    NOT NULL UNIQUE,
  kind       TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  body       TEXT    NOT NULL,
  bytes      INTEGER NOT NULL,
  attempts   INTEGER NOT NULL DEFAULT 0,
  last_error TEXT
);
CREATE TABLE IF NOT EXISTS dead (
  seq        INTEGER PRIMARY KEY,
  result_id  TEXT    NOT NULL,
  kind       TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  body       TEXT    NOT NULL,
  bytes      INTEGER NOT NULL,
  status     TEXT    NOT NULL,
  reason     TEXT    NOT NULL,
  field      TEXT,
  dead_at    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS usage (month TEXT PRIMARY KEY, bytes INTEGER NOT NULL, tests INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`

export class Outbox {
  readonly db: SqlDatabase
  readonly file: string
  private readonly limits: Readonly<OutboxLimits>
  private readonly now: () => number

  constructor (dataDir: string, { now = Date.now, limits = OUTBOX_LIMITS, driver }: { now?: () => number, limits?: Partial<OutboxLimits>, driver?: SqliteDriverName } = {}) {
    mkdirSync(dataDir, { recursive: true })
    this.file = join(dataDir, OUTBOX_FILE)
    this.now = now
    this.limits = { ...OUTBOX_LIMITS, ...limits }
    this.db = openDatabase(this.file, { driver })
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = FULL')
    this.db.pragma('busy_timeout = 5000')
    this.db.exec(SCHEMA)
  }

  close (): void { this.db.close() }

  /**
   * Stores one result in its own transaction and stamps it with the outbox sequence number
   * (per-agent, monotonic: the collector can see gaps). Returns the seq. The seq is taken
   * first (AUTOINCREMENT's high-water mark in sqlite_sequence, so a seq is never reused even
   * after rows are delivered or moved to `dead`), so the final body is written once.
   */
  add (record: { id: string, kind: string, seq?: number | null }): number {
    return this.db.transaction(() => {
      const last = this.db.prepare("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0) AS a, coalesce((SELECT max(seq) FROM outbox), 0) AS b").get() as { a: number, b: number }
      const seq = Math.max(Number(last.a), Number(last.b)) + 1
      const body = JSON.stringify({ ...record, seq })
      this.db.prepare('INSERT INTO outbox (seq, result_id, kind, created_at, body, bytes) VALUES (?, ?, ?, ?, ?, ?)')
        .run(seq, record.id, record.kind, this.now(), body, Buffer.byteLength(body))
      return seq
    })
  }

  /**
   * Oldest pending rows first, at most `maxItems` and at most `maxBytes` of JSON once joined
   * into an array (always at least one row, so a single large result still moves).
   */
  nextBatch (maxItems: number, maxBytes: number): PendingRow[] {
    const rows = this.db.prepare('SELECT seq, result_id AS resultId, kind, created_at AS createdAt, body, bytes FROM outbox ORDER BY seq LIMIT ?')
      .all(maxItems) as PendingRow[]
    const out: PendingRow[] = []
    let total = 2
    for (const r of rows) {
      if (out.length > 0 && total + r.bytes + 1 > maxBytes) break
      out.push(r)
      total += r.bytes + 1
    }
    return out
  }

  /**
   * Applies the collector's per-item acks in one transaction: accepted and duplicate rows are
   * deleted; conflict (the collector kept another copy) and rejected rows move to the dead
   * letters with the reason. Rows the reply does not mention stay pending.
   */
  applyAcks (sent: readonly PendingRow[], acks: readonly ItemAck[]): AckOutcome {
    const bySeqId = new Map(sent.map((r) => [r.resultId, r]))
    return this.db.transaction(() => {
      let deleted = 0
      let dead = 0
      const seen = new Set<string>()
      for (const ack of acks) {
        if (ack.id === null) continue
        const row = bySeqId.get(ack.id)
        if (row === undefined || seen.has(ack.id)) continue
        seen.add(ack.id)
        if (ack.status === 'accepted' || ack.status === 'duplicate') {
          deleted += this.db.prepare('DELETE FROM outbox WHERE seq = ?').run(row.seq).changes
        } else {
          const reason = ack.status === 'conflict'
            ? `conflict: the collector kept another copy of ${ack.id}${ack.reason !== undefined ? ` (${ack.reason})` : ''}`
            : ack.reason ?? 'rejected by the collector'
          dead += this.moveToDead(row.seq, ack.status, reason, ack.field ?? null)
        }
      }
      this.db.prepare(`UPDATE outbox SET attempts = attempts + 1 WHERE seq IN (${sent.map(() => '?').join(',') || 'NULL'})`).run(...sent.map((r) => r.seq))
      return { deleted, dead, untouched: sent.length - deleted - dead }
    })
  }

  /** Marks whole rows dead, e.g. after the collector refused the same batch as malformed three times. */
  markDead (seqs: readonly number[], status: string, reason: string): number {
    return this.db.transaction(() => seqs.reduce((n, s) => n + this.moveToDead(s, status, reason, null), 0))
  }

  private moveToDead (seq: number, status: string, reason: string, field: string | null): number {
    const moved = this.db.prepare(`INSERT OR REPLACE INTO dead (seq, result_id, kind, created_at, body, bytes, status, reason, field, dead_at)
      SELECT seq, result_id, kind, created_at, body, bytes, ?, ?, ?, ? FROM outbox WHERE seq = ?`).run(status, reason.slice(0, 1000), field, this.now(), seq).changes
    this.db.prepare('DELETE FROM outbox WHERE seq = ?').run(seq)
    return moved
  }

  /**
   * Age cap: rows older than 90 days (agent clock) become dead letters marked `expired` and are
   * counted; dead letters older than 30 days are purged. Only these two rules ever drop data.
   */
  expire (): { expired: number, purged: number } {
    return this.db.transaction(() => {
      const cutoff = this.now() - this.limits.maxAgeMs
      const old = this.db.prepare('SELECT seq FROM outbox WHERE created_at < ?').all(cutoff) as Array<{ seq: number }>
      for (const { seq } of old) this.moveToDead(seq, 'expired', 'older than 90 days without an acknowledgement', null)
      if (old.length > 0) this.bump('expired', old.length)
      const purged = this.db.prepare('DELETE FROM dead WHERE dead_at < ?').run(this.now() - this.limits.deadKeepMs).changes
      return { expired: old.length, purged }
    })
  }

  stats (): QueueStats {
    const row = this.db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS bytes, MIN(created_at) AS oldest FROM outbox').get() as { n: number, bytes: number, oldest: number | null }
    const dead = (this.db.prepare('SELECT COUNT(*) AS n FROM dead').get() as { n: number }).n
    return {
      pending: row.n,
      bytes: row.bytes,
      oldestAgeS: row.oldest === null ? null : Math.max(0, Math.round((this.now() - row.oldest) / 1000)),
      dead
    }
  }

  /** At the row or byte cap no new measurement starts; what is stored stays (RFC 8193 §3.6). */
  capState (): CapState {
    const s = this.stats()
    if (s.pending >= this.limits.maxRows) return { full: true, reason: `${s.pending} results waiting (cap ${this.limits.maxRows})` }
    if (s.bytes >= this.limits.maxBytes) return { full: true, reason: `${s.bytes} bytes waiting (cap ${this.limits.maxBytes})` }
    return { full: false }
  }

  deadLetters (limit = 20): DeadRow[] {
    return this.db.prepare('SELECT seq, result_id AS resultId, kind, status, reason, field, dead_at AS deadAt FROM dead ORDER BY seq DESC LIMIT ?').all(limit) as DeadRow[]
  }

  /** Every dead letter's stored body, oldest first, for manual export. */
  * exportAll (): Generator<{ state: 'pending' | 'dead', body: string }> {
    for (const r of this.db.prepare('SELECT body FROM outbox ORDER BY seq').iterate() as Iterable<{ body: string }>) yield { state: 'pending', body: r.body }
    for (const r of this.db.prepare('SELECT body FROM dead ORDER BY seq').iterate() as Iterable<{ body: string }>) yield { state: 'dead', body: r.body }
  }

  bump (name: CounterName, by = 1): void {
    this.db.prepare('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value').run(name, by)
  }

  counters (): Record<CounterName, number> {
    const out = Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0])) as Record<CounterName, number>
    for (const r of this.db.prepare('SELECT name, value FROM counters').all() as Array<{ name: string, value: number }>) {
      if ((COUNTER_NAMES as readonly string[]).includes(r.name)) out[r.name as CounterName] = r.value
    }
    return out
  }

  /** Data used by heavy tests in a calendar month (key 'YYYY-MM', agency local time). */
  addUsage (month: string, bytes: number): void {
    this.db.prepare('INSERT INTO usage (month, bytes, tests) VALUES (?, ?, 1) ON CONFLICT(month) DO UPDATE SET bytes = bytes + excluded.bytes, tests = tests + 1').run(month, Math.max(0, Math.round(bytes)))
  }

  usage (month: string): { bytes: number, tests: number } {
    return (this.db.prepare('SELECT bytes, tests FROM usage WHERE month = ?').get(month) as { bytes: number, tests: number } | undefined) ?? { bytes: 0, tests: 0 }
  }

  getMeta (key: string): string | null {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value ?? null
  }

  setMeta (key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value)
  }

  deleteMeta (key: string): void {
    this.db.prepare('DELETE FROM meta WHERE key = ?').run(key)
  }

  integrityCheck (): string {
    return String(this.db.pragma('integrity_check'))
  }
}
