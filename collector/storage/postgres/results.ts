import type pg from 'pg'
import { GroupNotDurableError, type CommitJob, type CommittedGroup, type HeartbeatRecord, type IngestOutcome, type ResultRow, type ResultStore } from '../stores.js'
import { addMonths, monthStartMs, vnMonth } from '../../../shared/vn-time.js'
import { applyRollups, markRollupsCurrent, rebuildRollups, rollupsCurrent } from './rollup-writer.js'
import { ipv6EvidenceCurrent, ipv6EvidenceWrite, rebuildIpv6Evidence } from './ipv6-evidence.js'
import { SIGNALLED, bumpMonthsAndCommitSql } from './changes.js'
import { runWrites, type Write } from './writes.js'

/** The advisory lock (two-key form, class 7312011) under which result partitions are created and dropped. */
const PARTITION_LOCK = [7312011, 0] as const

/** How long partition DDL may queue for its lock before it gives up (it would hold up every ingest behind it). */
const DDL_LOCK_TIMEOUT = '10s'

/** The partition of a Vietnam month 'YYYY-MM'. */
export const partitionOf = (month: string): string => `result_${month.replace('-', '_')}`
const monthOfPartition = (name: string): string | null => /^result_(\d{4})_(\d{2})$/.exec(name)?.slice(1, 3).join('-') ?? null

const RESULT_COLUMNS = `agent_id, result_id, seq, kind, schema_version, status, measured_at, measured_at_corr, received_at, clock_flags, family,
  download_mbps, upload_mbps, idle_latency_ms, loaded_latency_down_ms, loaded_latency_up_ms, flags, confidence, valid, agency_id,
  connection_class, isp, commune_code, province_code, legacy_district_code, legacy_province_code, payload_sha256, raw`
const RESULT_TYPES = ['text', 'text', 'bigint', 'text', 'text', 'text', 'bigint', 'bigint', 'bigint', 'int', 'int', 'float8', 'float8', 'float8',
  'float8', 'float8', 'text', 'text', 'int', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'bytea', 'text']
const RESULT_FIELDS: ReadonlyArray<keyof ResultRow> = ['agentId', 'resultId', 'seq', 'kind', 'schemaVersion', 'status', 'measuredAt', 'measuredAtCorr',
  'receivedAt', 'clockFlags', 'family', 'downloadMbps', 'uploadMbps', 'idleLatencyMs', 'loadedDownMs', 'loadedUpMs', 'flags', 'confidence', 'valid',
  'agencyId', 'connectionClass', 'isp', 'communeCode', 'provinceCode', 'legacyDistrictCode', 'legacyProvinceCode', 'payloadSha256', 'raw']
/** The result table's columns in RESULT_FIELDS' order (the bench's reference inserts them straight). */
export const RESULT_COLUMN_NAMES: readonly string[] = RESULT_COLUMNS.split(',').map((c) => c.trim())
/** A row's values in RESULT_COLUMN_NAMES' order. */
export const resultValues = (row: ResultRow): unknown[] => RESULT_FIELDS.map((f) => row[f])

/**
 * A group's first copies as one JSON array of objects keyed by column name, the payload hash
 * in hex: one text parameter that the server unpacks with json_to_recordset. JSON.stringify is
 * native; pg's escaping of 28 text arrays (the raw records above all) cost more than the
 * insert itself (docs/fleet.md, "Ingest on both stores").
 */
function rowsJson (rows: readonly ResultRow[]): string {
  return JSON.stringify(rows.map((r) => Object.fromEntries(RESULT_FIELDS.map((f, i) =>
    [RESULT_COLUMN_NAMES[i], f === 'payloadSha256' ? r.payloadSha256.toString('hex') : r[f]]))))
}

/** The JSON's record type: every column as stored, but the hash as hex text. */
const RECORD_COLUMNS = RESULT_COLUMN_NAMES.map((c, i) => `${c} ${c === 'payload_sha256' ? 'text' : RESULT_TYPES[i] as string}`).join(', ')

/**
 * Exactly once in one statement: the group's first copies (sorted by key, $1) go into
 * result_key with ON CONFLICT DO NOTHING in that order; the rows whose key it inserted go
 * into result; the keys inserted come back. A key another collector's open transaction holds
 * makes this wait for its commit and then skip it, as before.
 */
const INSERT_KEYS_AND_RESULTS_SQL = `WITH u AS (
    SELECT * FROM ROWS FROM (json_to_recordset($1::json) AS (${RECORD_COLUMNS})) WITH ORDINALITY AS u(${RESULT_COLUMNS}, o)
  ), k AS (
    INSERT INTO result_key (agent_id, result_id, payload_sha256, measured_at_corr)
    SELECT agent_id, result_id, decode(payload_sha256, 'hex'), measured_at_corr FROM u ORDER BY o
    ON CONFLICT (agent_id, result_id) DO NOTHING RETURNING agent_id, result_id
  ), r AS (
    INSERT INTO result (${RESULT_COLUMNS})
    SELECT ${RESULT_COLUMN_NAMES.map((c) => c === 'payload_sha256' ? "decode(u.payload_sha256, 'hex')" : `u.${c}`).join(', ')}
    FROM u JOIN k ON k.agent_id = u.agent_id AND k.result_id = u.result_id
  )
  SELECT agent_id, result_id FROM k`

const CONFLICT_REASON = 'a different record with this id is already stored; the first copy is kept'

/** The ingest transaction's first statement: every table it writes, in one order that the rebuilds and partition DDL also respect. */
const LOCK_INGEST_TABLES = 'LOCK TABLE ONLY result, result_key, rollup_agent_hour, rollup_agent_month, ipv6_evidence IN ROW EXCLUSIVE MODE'

const COMMIT_LEVELS = ['off', 'local', 'remote_write', 'on', 'remote_apply']

/**
 * Results on PostgreSQL (migration 011): a commit group is one transaction on one pooled
 * connection holding the results, their rollups and IPv6 evidence, the agents' heartbeats and
 * the rollups' change signal; it resolves after COMMIT returns, which with synchronous_commit
 * at least 'on' (raised to it for the transaction when the server's default is lower) means the
 * commit record is flushed, and on the synchronous standby too where one is configured.
 *
 * Exactly once across collectors (docs/storage.md): the group's keys go into result_key with
 * INSERT … ON CONFLICT DO NOTHING RETURNING, in one sorted order; the keys it returns are
 * accepted, the rest are looked up there and are duplicates when their payload hash matches,
 * conflicts when not, as on SQLite. A collector inserting a key another collector's open
 * transaction holds waits for that commit, then skips the key.
 *
 * No deadlock between collectors: every lock a group takes comes in one global order: the
 * tables (LOCK_INGEST_TABLES), the agents' rollup locks (sorted, migration 020) and the agents'
 * rows (sorted, FOR UPDATE), all three in the first round trip; then the keys (sorted); the
 * months' change rows (sorted, last). A transaction waiting for a lock holds only locks that
 * come before it in that order, so no cycle can form. Every other row the group writes (hour
 * and month rollups, IPv6 evidence, heartbeats) belongs to an agent it locked first, so those
 * writes wait on no one and go to the server together, as one statement (writes.ts).
 *
 * A group therefore costs six round trips whatever its size (seven when it holds copies of
 * results already stored): BEGIN with the locks; the insert; the rollups' hour rows and month
 * rows (two reads); the writes; the change signal with COMMIT. It used to cost eleven or
 * twelve; on a busy machine each one waits for both processes to be scheduled, so their
 * number sets the ack's tail.
 */
export class PostgresResultStore implements ResultStore {
  readonly #pool: pg.Pool
  readonly #raiseSyncCommit: boolean
  /** Months whose partition is known to exist (dropped ones are noticed when an insert fails). */
  readonly #partitions = new Set<string>()

  private constructor (pool: pg.Pool, raiseSyncCommit: boolean) {
    this.#pool = pool
    this.#raiseSyncCommit = raiseSyncCommit
  }

  /** Reads the server's synchronous_commit once: below 'on', each group raises it for its own transaction. */
  static async open (pool: pg.Pool): Promise<PostgresResultStore> {
    const { rows } = await pool.query<{ s: string }>("SELECT current_setting('synchronous_commit') AS s")
    return new PostgresResultStore(pool, COMMIT_LEVELS.indexOf(rows[0]?.s ?? 'off') < COMMIT_LEVELS.indexOf('on'))
  }

  async commitGroup (jobs: readonly CommitJob[]): Promise<CommittedGroup> {
    const plan = planGroup(jobs)
    await this.ensurePartitions(plan.months)
    const started = performance.now()
    const client = await this.#pool.connect()
    let outcomes: IngestOutcome[]
    let months: Set<string>
    let broken: Error | undefined
    try {
      try {
        await client.query(`BEGIN; ${this.#raiseSyncCommit ? 'SET LOCAL synchronous_commit = on; ' : ''}${SIGNALLED}; ${LOCK_INGEST_TABLES}${lockAgentsSql(client, agentsOf(jobs, plan))}`);
        ({ outcomes, months } = await this.#write(client, jobs, plan))
      } catch (err) {
        await client.query('ROLLBACK').catch((e: unknown) => { broken = e as Error })
        // A partition dropped by retention on another collector since we looked: look again next time.
        if ((err as { code?: string }).code === '23514') this.#partitions.clear()
        throw err
      }
      try {
        // The months' change signal, last, goes with the COMMIT (changes.ts).
        await client.query(bumpMonthsAndCommitSql(months))
      } catch (err) {
        broken = err as Error
        // The commit may or may not have happened: nothing may be acknowledged; a resend finds its duplicates.
        throw new GroupNotDurableError(err)
      }
    } finally {
      client.release(broken)
    }
    return { outcomes, commitMs: performance.now() - started, syncMs: 0 }
  }

  async #write (client: pg.PoolClient, jobs: readonly CommitJob[], plan: GroupPlan): Promise<{ outcomes: IngestOutcome[], months: Set<string> }> {
    const outcomes = jobs.map(({ batch }): IngestOutcome => ({ items: batch.items, accepted: 0, duplicate: 0, conflict: 0, rejected: batch.rejected }))
    const accepted = new Set<string>()
    const stored = new Map<string, Buffer>()
    if (plan.firsts.length > 0) {
      const ins = await client.query<{ agent_id: string, result_id: string }>(INSERT_KEYS_AND_RESULTS_SQL, [plan.json])
      for (const r of ins.rows) accepted.add(keyOf(r.agent_id, r.result_id))
      const others = plan.firsts.filter((f) => !accepted.has(keyOf(f.agentId, f.resultId)))
      if (others.length > 0) {
        const found = await client.query<{ agent_id: string, result_id: string, payload_sha256: Buffer }>(`SELECT agent_id, result_id, payload_sha256 FROM result_key
          WHERE (agent_id, result_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, [others.map((f) => f.agentId), others.map((f) => f.resultId)])
        for (const r of found.rows) stored.set(keyOf(r.agent_id, r.result_id), r.payload_sha256)
      }
    }
    const rows: ResultRow[] = []
    const taken = new Set<string>()
    jobs.forEach(({ batch }, j) => {
      const out = outcomes[j] as IngestOutcome
      for (const { index, row } of batch.rows) {
        const id = row.resultId
        const key = keyOf(row.agentId, id)
        if (accepted.has(key) && !taken.has(key)) {
          // The first copy in the group is the one inserted; a later copy in the same group compares with it.
          taken.add(key)
          stored.set(key, row.payloadSha256)
          out.items[index] = { id, status: 'accepted' }
          out.accepted++
          rows.push(row)
          continue
        }
        const hash = stored.get(key)
        if (hash === undefined) throw new Error(`result ${row.agentId}/${id}: neither inserted nor found in result_key`)
        if (hash.equals(row.payloadSha256)) {
          out.items[index] = { id, status: 'duplicate' }
          out.duplicate++
        } else {
          out.items[index] = { id, status: 'conflict', reason: CONFLICT_REASON }
          out.conflict++
        }
      }
    })
    let months = new Set<string>()
    const writes: Write[] = []
    if (rows.length > 0) {
      const rollups = await applyRollups(client, rows, { locked: true })
      months = rollups.months
      writes.push(...rollups.writes)
      const evidence = ipv6EvidenceWrite(rows)
      if (evidence !== null) writes.push(evidence)
    }
    writes.push(...heartbeatWrites(jobs))
    await runWrites(client, writes)
    return { outcomes, months }
  }

  /**
   * Makes sure a partition exists for each month, and for the month after each (so the next
   * month's first group finds its partition made). Creation is its own short transaction under
   * an advisory lock, before the group's: CREATE … PARTITION OF takes an exclusive lock on
   * `result`, which waits for the groups in flight and holds new ones back until it commits.
   */
  async ensurePartitions (months: Iterable<string>): Promise<void> {
    let missing = [...new Set(months)].filter((m) => !this.#partitions.has(m))
    if (missing.length === 0) return
    for (const m of await this.#existingPartitions()) this.#partitions.add(m)
    missing = missing.flatMap((m) => [m, addMonths(m, 1)]).filter((m, i, all) => !this.#partitions.has(m) && all.indexOf(m) === i)
    if (missing.length === 0) return
    const client = await this.#pool.connect()
    let broken: Error | undefined
    try {
      try {
        await client.query(`BEGIN; SET LOCAL lock_timeout = '${DDL_LOCK_TIMEOUT}'`)
        await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...PARTITION_LOCK])
        for (const m of missing.sort()) {
          await client.query(`CREATE TABLE IF NOT EXISTS ${partitionOf(m)} PARTITION OF result
            FOR VALUES FROM (${monthStartMs(m)}) TO (${monthStartMs(addMonths(m, 1))})`)
        }
        await client.query('COMMIT')
      } catch (err) {
        await client.query('ROLLBACK').catch((e: unknown) => { broken = e as Error })
        throw err
      }
    } finally {
      client.release(broken)
    }
    for (const m of missing) this.#partitions.add(m)
  }

  async #existingPartitions (client: Pick<pg.ClientBase, 'query'> = this.#pool): Promise<string[]> {
    const { rows } = await client.query<{ name: string }>(`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'result'::regclass`)
    return rows.map((r) => monthOfPartition(r.name)).filter((m): m is string => m !== null)
  }

  async ensureRollups (): Promise<{ rebuiltRows: number | null }> {
    if (await rollupsCurrent(this.#pool)) return { rebuiltRows: null }
    const empty = (await this.#pool.query('SELECT 1 FROM result_key LIMIT 1')).rowCount === 0
    if (empty) {
      await markRollupsCurrent(this.#pool)
      return { rebuiltRows: null }
    }
    const built = await this.#withClient(async (c) => await rebuildRollups(c, { onlyIfStale: true }))
    return { rebuiltRows: built === null ? null : built.rows }
  }

  async rebuildRollups (): Promise<{ rows: number }> {
    return await this.#withClient(async (c) => await rebuildRollups(c) as { rows: number })
  }

  async ensureIpv6Evidence (): Promise<{ results: number, evidence: number } | null> {
    if (await ipv6EvidenceCurrent(this.#pool)) return null
    return await this.#withClient(async (c) => await rebuildIpv6Evidence(c))
  }

  /**
   * Retention (docs/operations.md), the contract SQLite keeps, by whole months where it can:
   * every partition whose month ends at or before the cutoff is dropped at once (its rows
   * leave in one catalogue change, not row by row); in the month the cutoff falls in, the rows
   * measured before it are deleted, at most `limit`. The keys of deleted rows leave result_key
   * with them, the dropped months' keys at most `limit` per call, so a call returns how many
   * results it finished deleting (at most `limit`), and the caller's loop stops at fewer. The
   * rollups and the IPv6 evidence stay.
   *
   * Locks: the exclusive lock on `result` (dropping) is taken first, with a timeout, so it
   * never sits in the queue holding back ingest behind a long read; the keys are deleted after
   * it, the order ingest takes them in.
   */
  async deleteResultsBefore (cutoffMs: number, limit: number): Promise<number> {
    const cutoffMonth = vnMonth(cutoffMs)
    return await this.#withClient(async (client) => {
      try {
        await client.query(`BEGIN; SET LOCAL lock_timeout = '${DDL_LOCK_TIMEOUT}'`)
        const whole = (await this.#existingPartitions(client)).filter((m) => monthStartMs(addMonths(m, 1)) <= cutoffMs)
        if (whole.length > 0) {
          await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...PARTITION_LOCK])
          await client.query('LOCK TABLE ONLY result IN ACCESS EXCLUSIVE MODE')
          for (const m of whole) {
            await client.query(`DROP TABLE IF EXISTS ${partitionOf(m)}`)
            this.#partitions.delete(m)
          }
        }
        // Keys whose result row is gone (its month dropped, here or by another collector).
        const keys = await client.query(`DELETE FROM result_key WHERE ctid = ANY (ARRAY(
            SELECT k.ctid FROM result_key k WHERE k.measured_at_corr < $1
              AND NOT EXISTS (SELECT 1 FROM result r WHERE r.agent_id = k.agent_id AND r.result_id = k.result_id AND r.measured_at_corr = k.measured_at_corr)
            LIMIT $2))`, [cutoffMs, limit])
        let n = keys.rowCount ?? 0
        if (n < limit && monthStartMs(cutoffMonth) < cutoffMs && (await this.#existingPartitions(client)).includes(cutoffMonth)) {
          const rows = await client.query(`WITH gone AS (
              DELETE FROM ${partitionOf(cutoffMonth)} WHERE ctid = ANY (ARRAY(
                SELECT ctid FROM ${partitionOf(cutoffMonth)} WHERE measured_at_corr < $1 LIMIT $2))
              RETURNING agent_id, result_id)
            DELETE FROM result_key k USING gone WHERE k.agent_id = gone.agent_id AND k.result_id = gone.result_id`, [cutoffMs, limit - n])
          n += rows.rowCount ?? 0
        }
        await client.query('COMMIT')
        return n
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {})
        throw err
      }
    })
  }

  /** Runs `fn` on a pooled connection; a connection left in an unknown state (a failed ROLLBACK) is destroyed, not pooled. */
  async #withClient<T> (fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect()
    let broken: Error | undefined
    try {
      return await fn(client)
    } catch (err) {
      await client.query('ROLLBACK').catch((e: unknown) => { broken = e as Error })
      throw err
    } finally {
      client.release(broken)
    }
  }
}

const keyOf = (agentId: string, resultId: string): string => `${agentId}\u0000${resultId}`

interface GroupPlan {
  /** The first copy of each (agent, result id) in the group, sorted by that key. */
  firsts: ResultRow[]
  /** The months the group's rows would be stored in. */
  months: Set<string>
  /** `firsts` as the JSON parameter of the insert (built before the transaction starts). */
  json: string
}

function planGroup (jobs: readonly CommitJob[]): GroupPlan {
  const firsts = new Map<string, ResultRow>()
  const months = new Set<string>()
  for (const { batch } of jobs) {
    for (const { row } of batch.rows) {
      const key = keyOf(row.agentId, row.resultId)
      if (firsts.has(key)) continue
      firsts.set(key, row)
      months.add(vnMonth(row.measuredAtCorr))
    }
  }
  const sorted = [...firsts.values()].sort((a, b) => a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : a.resultId < b.resultId ? -1 : a.resultId > b.resultId ? 1 : 0)
  return { firsts: sorted, months, json: rowsJson(sorted) }
}

/** Every agent a group touches: those seen (heartbeats) and those whose results it holds, sorted. */
function agentsOf (jobs: readonly CommitJob[], plan: GroupPlan): string[] {
  const ids = new Set<string>()
  for (const { seen } of jobs) if (seen !== null) ids.add(seen.agentId)
  for (const row of plan.firsts) ids.add(row.agentId)
  return [...ids].sort()
}

/**
 * The agents' locks as statement text for the first round trip (a simple-protocol query takes
 * no parameters, so the ids go in as literals, escaped by the driver): their rollup locks
 * (migration 020) and their rows, FOR UPDATE in one order.
 */
function lockAgentsSql (client: pg.PoolClient, ids: readonly string[]): string {
  if (ids.length === 0) return ''
  const list = ids.map((id) => client.escapeLiteral(id)).join(', ')
  return `; SELECT lock_rollup_agents(ARRAY[${list}]::text[]); SELECT 1 FROM agent WHERE id IN (${list}) ORDER BY id FOR UPDATE`
}

/** The jobs' heartbeats in job order per agent (the last one wins, as on SQLite): the agent rows' writes, whose locks the group took first. */
function heartbeatWrites (jobs: readonly CommitJob[]): Write[] {
  const agents = new Map<string, { seenAt: number, beat: { at: number, hb: HeartbeatRecord } | null }>()
  for (const { seen } of jobs) {
    if (seen === null) continue
    const prev = agents.get(seen.agentId)
    const beat = seen.kind === 'heartbeat' ? { at: seen.at, hb: seen.heartbeat } : (prev?.beat ?? null)
    agents.set(seen.agentId, { seenAt: seen.at, beat })
  }
  const ids = [...agents.keys()].sort()
  const beats = ids.filter((id) => agents.get(id)?.beat != null)
  const seenOnly = ids.filter((id) => agents.get(id)?.beat == null)
  const writes: Write[] = []
  if (beats.length > 0) {
    const b = beats.map((id) => agents.get(id) as { seenAt: number, beat: { at: number, hb: HeartbeatRecord } })
    writes.push({
      sql: `UPDATE agent a SET last_seen_at = u.seen_at, last_sync_at = u.sync_at, agent_version = u.agent_version,
        config_version = u.config_version, uptime_s = u.uptime_s, queue_pending = u.pending, queue_oldest_age_s = u.oldest_age_s,
        queue_dead = u.dead, queue_bytes = u.bytes, counters = u.counters, clock_offset_ms = u.offset_ms, clock_since_sync_s = u.since_sync_s
      FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::int[], $6::float8[], $7::bigint[], $8::float8[], $9::bigint[],
        $10::bigint[], $11::text[], $12::float8[], $13::float8[])
        AS u(id, seen_at, sync_at, agent_version, config_version, uptime_s, pending, oldest_age_s, dead, bytes, counters, offset_ms, since_sync_s)
      WHERE a.id = u.id`,
      params: [
        beats, b.map((x) => x.seenAt), b.map((x) => x.beat.at), b.map((x) => x.beat.hb.agentVersion), b.map((x) => x.beat.hb.configVersion),
        b.map((x) => x.beat.hb.uptimeS), b.map((x) => x.beat.hb.queue.pending), b.map((x) => x.beat.hb.queue.oldestAgeS), b.map((x) => x.beat.hb.queue.dead),
        b.map((x) => x.beat.hb.queue.bytes), b.map((x) => JSON.stringify(x.beat.hb.counters)), b.map((x) => x.beat.hb.clock.offsetMs),
        b.map((x) => x.beat.hb.clock.sinceSyncS)
      ]
    })
  }
  if (seenOnly.length > 0) {
    writes.push({
      sql: 'UPDATE agent a SET last_seen_at = u.at FROM unnest($1::text[], $2::bigint[]) AS u(id, at) WHERE a.id = u.id',
      params: [seenOnly, seenOnly.map((id) => agents.get(id)?.seenAt)]
    })
  }
  return writes
}
