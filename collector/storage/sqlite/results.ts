import { open } from 'node:fs/promises'
import type { Statement } from 'better-sqlite3'
import type { Db } from '../db.js'
import { GroupNotDurableError, type CommitJob, type CommittedGroup, type IngestOutcome, type ResultRow, type ResultStore } from '../stores.js'
import { RollupWriter, markRollupsCurrent, rebuildRollups, rollupsCurrent } from './rollup-writer.js'
import { Ipv6EvidenceWriter, ipv6EvidenceCurrent, rebuildIpv6Evidence } from './ipv6-evidence.js'
import { WalCheckpointer } from './wal-checkpointer.js'

/** The one insert of a result row; bench/ingest times the same statement as its raw reference. */
export const INSERT_RESULT_SQL = `INSERT INTO result (agent_id, result_id, seq, kind, schema_version, status, measured_at,
      measured_at_corr, received_at, clock_flags, family, download_mbps, upload_mbps, idle_latency_ms,
      loaded_latency_down_ms, loaded_latency_up_ms, flags, confidence, valid, agency_id, connection_class, isp,
      commune_code, province_code, legacy_district_code, legacy_province_code, payload_sha256, raw)
      VALUES (@agentId, @resultId, @seq, @kind, @schemaVersion, @status, @measuredAt, @measuredAtCorr, @receivedAt,
      @clockFlags, @family, @downloadMbps, @uploadMbps, @idleLatencyMs, @loadedDownMs, @loadedUpMs, @flags, @confidence,
      @valid, @agencyId, @connectionClass, @isp, @communeCode, @provinceCode, @legacyDistrictCode, @legacyProvinceCode,
      @payloadSha256, @raw)
      ON CONFLICT (agent_id, result_id) DO NOTHING`

/**
 * Results on SQLite. A commit group is one transaction holding the results, their rollups and
 * IPv6 evidence and the agents' heartbeats, so they commit or roll back together.
 *
 * Durability without blocking the event loop: the group's transaction runs with
 * synchronous=NORMAL (in WAL mode: no fsync at commit), then the WAL file is fsynced on
 * libuv's thread pool and only then does `commitGroup` resolve. A resolved group thus means the
 * same as under synchronous=FULL (the commit record is on stable storage), while the next group
 * can be parsed, validated and committed during the fsync. Every other write on the connection
 * keeps synchronous=FULL. WAL checkpoints run on a worker thread (wal-checkpointer.ts) from the
 * first group on, off the commit path.
 */
export class SqliteResultStore implements ResultStore {
  readonly #db: Db
  readonly #insert: Statement
  readonly #existingHash: Statement
  readonly #heartbeat: Statement
  readonly #seen: Statement
  readonly #rollups: RollupWriter
  readonly #evidence: Ipv6EvidenceWriter
  readonly #deleteBatch: Statement
  readonly #walFile: string | null
  #checkpointer: WalCheckpointer | null = null
  #closed = false

  constructor (db: Db) {
    this.#db = db
    this.#insert = db.prepare(INSERT_RESULT_SQL)
    this.#existingHash = db.prepare('SELECT payload_sha256 FROM result WHERE agent_id = ? AND result_id = ?').pluck()
    this.#heartbeat = db.prepare(`UPDATE agent SET last_seen_at = @now, last_sync_at = @now,
      agent_version = @agentVersion, config_version = @configVersion, uptime_s = @uptimeS, queue_pending = @pending,
      queue_oldest_age_s = @oldestAgeS, queue_dead = @dead, queue_bytes = @bytes, counters = @counters,
      clock_offset_ms = @offsetMs, clock_since_sync_s = @sinceSyncS WHERE id = @id`)
    this.#seen = db.prepare('UPDATE agent SET last_seen_at = ? WHERE id = ?')
    this.#rollups = new RollupWriter(db)
    this.#evidence = new Ipv6EvidenceWriter(db)
    // rowid order follows arrival, so the oldest rows are found near the start of the table.
    this.#deleteBatch = db.prepare('DELETE FROM result WHERE rowid IN (SELECT rowid FROM result WHERE measured_at_corr < ? ORDER BY rowid LIMIT ?)')
    this.#walFile = db.memory ? null : `${db.name}-wal`
  }

  async commitGroup (jobs: readonly CommitJob[]): Promise<CommittedGroup> {
    // Everything up to the fsync runs synchronously, in call order, before this method yields.
    if (this.#walFile !== null && !this.#closed) this.#checkpointer ??= new WalCheckpointer(this.#db)
    const started = performance.now()
    let outcomes: IngestOutcome[]
    this.#db.pragma('synchronous = NORMAL')
    try {
      outcomes = this.#db.transaction(() => this.#write(jobs))()
    } finally {
      this.#db.pragma('synchronous = FULL')
    }
    const committed = performance.now()
    try {
      await this.#syncWal()
    } catch (err) {
      throw new GroupNotDurableError(err)
    }
    const synced = performance.now()
    // Between transactions: a WAL that sustained ingest kept the worker from restarting is restarted here.
    this.#checkpointer?.afterCommit()
    return { outcomes, commitMs: committed - started, syncMs: synced - committed }
  }

  /** Inside the group's transaction: the inserts, then the projections of the accepted rows, then the heartbeats. */
  #write (jobs: readonly CommitJob[]): IngestOutcome[] {
    const accepted: ResultRow[] = []
    const outcomes = jobs.map(({ batch }) => {
      const out: IngestOutcome = { items: batch.items, accepted: 0, duplicate: 0, conflict: 0, rejected: batch.rejected }
      for (const { index, row } of batch.rows) {
        const id = row.resultId
        if (this.#insert.run(row).changes === 1) {
          out.items[index] = { id, status: 'accepted' }
          out.accepted++
          accepted.push(row)
          continue
        }
        const stored = this.#existingHash.get(batch.agentId, id) as Buffer
        if (stored.equals(row.payloadSha256)) {
          out.items[index] = { id, status: 'duplicate' }
          out.duplicate++
        } else {
          out.items[index] = { id, status: 'conflict', reason: 'a different record with this id is already stored; the first copy is kept' }
          out.conflict++
        }
      }
      return out
    })
    if (accepted.length > 0) {
      this.#rollups.apply(accepted)
      this.#evidence.apply(accepted)
    }
    for (const { seen } of jobs) {
      if (seen === null) continue
      if (seen.kind === 'seen') {
        this.#seen.run(seen.at, seen.agentId)
        continue
      }
      const hb = seen.heartbeat
      this.#heartbeat.run({
        id: seen.agentId,
        now: seen.at,
        agentVersion: hb.agentVersion,
        configVersion: hb.configVersion,
        uptimeS: hb.uptimeS,
        pending: hb.queue.pending,
        oldestAgeS: hb.queue.oldestAgeS,
        dead: hb.queue.dead,
        bytes: hb.queue.bytes,
        counters: JSON.stringify(hb.counters),
        offsetMs: hb.clock.offsetMs,
        sinceSyncS: hb.clock.sinceSyncS
      })
    }
    return outcomes
  }

  /** fsync of the WAL file (every write of the file, whichever descriptor made it). */
  async #syncWal (): Promise<void> {
    if (this.#walFile === null) return
    const handle = await open(this.#walFile, 'r')
    try { await handle.sync() } finally { await handle.close() }
  }

  async ensureRollups (): Promise<{ rebuiltRows: number | null }> {
    if (rollupsCurrent(this.#db)) return { rebuiltRows: null }
    if (this.#db.prepare('SELECT 1 FROM result LIMIT 1').get() === undefined) {
      markRollupsCurrent(this.#db)
      return { rebuiltRows: null }
    }
    return { rebuiltRows: rebuildRollups(this.#db).rows }
  }

  async rebuildRollups (): Promise<{ rows: number }> {
    return rebuildRollups(this.#db)
  }

  async ensureIpv6Evidence (): Promise<{ results: number, evidence: number } | null> {
    return ipv6EvidenceCurrent(this.#db) ? null : rebuildIpv6Evidence(this.#db)
  }

  async deleteResultsBefore (cutoffMs: number, limit: number): Promise<number> {
    return this.#db.transaction(() => this.#deleteBatch.run(cutoffMs, limit).changes)()
  }

  /** Stops the checkpoint worker (after one last checkpoint) and hands checkpoints back to the connection; before the database closes. */
  async close (): Promise<void> {
    this.#closed = true
    await this.#checkpointer?.stop()
  }
}
