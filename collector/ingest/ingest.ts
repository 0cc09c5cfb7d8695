import { hash } from 'node:crypto'
import type { Db } from '../storage/db.js'
import type { Agency, AgentRow } from '../storage/agency-store.js'
import { DISQUALIFYING_FLAGS, RESULT_SCHEMA_MAJOR, effectiveFlags, ResultRecord, type ItemAck } from '../../shared/schemas/result.js'
import { compileValidator } from '../../shared/schemas/validate.js'
import { correctClock } from './clock.js'
import { RECORD_SHAPE, shapeProblem } from '../../shared/schemas/shape.js'
import { vnMonth } from '../../shared/vn-time.js'
import { TocdoError } from '../../shared/errors.js'

const validateRecord = compileValidator(ResultRecord)

export interface IngestOutcome {
  items: ItemAck[]
  accepted: number
  duplicate: number
  conflict: number
  rejected: number
}

/**
 * A result counts toward targets only when it is a clean speed measurement: status ok,
 * confidence high or medium (or not assessed), and none of the disqualifying validity flags
 * (methodology.md §11 counting rule). Invalid results are stored all the same.
 */
export function isValidForTargets (r: ResultRecord, flags = effectiveFlags(r)): boolean {
  if (r.kind !== 'speed' || r.status !== 'ok' || r.download === null) return false
  if (r.confidence === 'low') return false
  return !flags.some((f) => DISQUALIFYING_FLAGS.includes(f))
}

/**
 * The typed columns of a row as stored; what rollups and other listeners see. `record` is the
 * record the ingest already parsed and validated (not a column: the insert binds by name and
 * leaves it out), so listeners derive their projections from it instead of parsing `raw` again.
 */
export type StoredRow = Record<string, unknown> & { agentId: string, resultId: string, kind: string, valid: number, measuredAtCorr: number, record: ResultRecord }

/**
 * A batch validated and turned into rows, outside any transaction: the CPU-heavy part of
 * ingest, done in the request so the writer only inserts.
 */
export interface PreparedBatch {
  agentId: string
  /** Acks in item order; rejected items are filled in, the rest when stored. */
  items: ItemAck[]
  rows: Array<{ index: number, params: Record<string, unknown> }>
  rejected: number
}

/** Results timestamped more than this far ahead, after the agent's own correction, are refused. */
const MAX_FUTURE_MS = 86_400_000

/**
 * Stores batches idempotently on (agent, result id), item by item: a resend of the same
 * record is a `duplicate`; the same id with a different payload is a `conflict` and the
 * first copy is kept (fleet-protocol.md §7). `prepare` validates without touching the
 * database; `storeAll` inserts any number of prepared batches in one transaction (the
 * group commit), so an item is acknowledged only once that transaction has committed.
 */
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

export class Ingestor {
  readonly #db: Db
  readonly #listeners: Array<(rows: StoredRow[]) => void> = []
  readonly #insert
  readonly #existingHash

  constructor (db: Db) {
    this.#db = db
    this.#insert = db.prepare(INSERT_RESULT_SQL)
    this.#existingHash = db.prepare('SELECT payload_sha256 FROM result WHERE agent_id = ? AND result_id = ?').pluck()
  }

  /**
   * Registers a listener called inside the ingest transaction with the rows accepted in it,
   * so derived data (rollups) commits or rolls back together with the results themselves.
   */
  onAccepted (listener: (rows: StoredRow[]) => void): void {
    this.#listeners.push(listener)
  }

  /** Validates and stores one batch in its own transaction (CLI, demo and tests). */
  ingest (agent: AgentRow, agency: Agency, items: readonly unknown[], receivedAt = Date.now()): IngestOutcome {
    const batch = this.prepare(agent, agency, items, receivedAt)
    let outcome: IngestOutcome | undefined
    this.#db.transaction(() => { [outcome] = this.storeAll([batch]) })()
    return outcome as IngestOutcome
  }

  /**
   * Throws TOCDO_ERR_UNSUPPORTED_SCHEMA (422) naming the item when any record has a schema
   * major this collector cannot parse: the agent must keep those rows for a newer collector
   * rather than mark them dead, so the whole request is refused and nothing is stored.
   */
  assertSupportedMajors (items: readonly unknown[], fieldPrefix = 'results'): void {
    items.forEach((item, index) => {
      const version = typeof item === 'object' && item !== null ? (item as { schemaVersion?: unknown }).schemaVersion : undefined
      if (typeof version !== 'string') return
      const match = /^(\d+)\./.exec(version)
      if (match !== null && Number(match[1]) !== RESULT_SCHEMA_MAJOR) {
        throw new TocdoError('TOCDO_ERR_UNSUPPORTED_SCHEMA',
          `${fieldPrefix}/${index}/schemaVersion: schema ${version} is not supported by this collector (accepts ${RESULT_SCHEMA_MAJOR}.x); keep the results and upgrade the collector`,
          { details: { field: `${fieldPrefix}/${index}/schemaVersion` } })
      }
    })
  }

  /**
   * Validation and row building, no database access. Everything that can throw on a record's
   * data (serialising it, the clock and rollup time arithmetic) runs here, before the record
   * joins a group commit, so a record that breaks it is rejected alone (issue 11) instead of
   * failing the transaction every other request shares.
   */
  prepare (agent: AgentRow, agency: Agency, items: readonly unknown[], receivedAt = Date.now()): PreparedBatch {
    const batch: PreparedBatch = { agentId: agent.id, items: new Array<ItemAck>(items.length), rows: [], rejected: 0 }
    items.forEach((item, index) => {
      let reason = this.#reject(item, receivedAt)
      let params: Record<string, unknown> | null = null
      if (reason === null) {
        try {
          params = this.#row(agent, agency, item as ResultRecord, receivedAt)
        } catch (err) {
          reason = { field: '/', message: `record could not be processed: ${(err as Error).message}` }
        }
      }
      if (reason !== null || params === null) {
        const id = typeof item === 'object' && item !== null && typeof (item as { id?: unknown }).id === 'string'
          ? ((item as { id: string }).id).slice(0, 64)
          : null
        batch.items[index] = { id, status: 'rejected', reason: reason?.message ?? 'record could not be processed', field: reason?.field ?? '/' }
        batch.rejected++
        return
      }
      batch.rows.push({ index, params })
    })
    return batch
  }

  /** Number of rows a batch will insert; the write queue's unit. */
  static rowCount (batch: PreparedBatch): number { return batch.rows.length }

  /** Inserts prepared batches; must run inside a transaction, which the caller commits. */
  storeAll (batches: readonly PreparedBatch[]): IngestOutcome[] {
    const accepted: StoredRow[] = []
    const outcomes = batches.map((batch) => {
      const out: IngestOutcome = { items: batch.items, accepted: 0, duplicate: 0, conflict: 0, rejected: batch.rejected }
      for (const { index, params } of batch.rows) {
        const id = params.resultId as string
        if (this.#insert.run(params).changes === 1) {
          out.items[index] = { id, status: 'accepted' }
          out.accepted++
          accepted.push(params as StoredRow)
          continue
        }
        const stored = this.#existingHash.get(batch.agentId, id) as Buffer
        if (stored.equals(params.payloadSha256 as Buffer)) {
          out.items[index] = { id, status: 'duplicate' }
          out.duplicate++
        } else {
          out.items[index] = { id, status: 'conflict', reason: 'a different record with this id is already stored; the first copy is kept' }
          out.conflict++
        }
      }
      return out
    })
    if (accepted.length > 0) for (const listener of this.#listeners) listener(accepted)
    return outcomes
  }

  /** Why an item cannot be stored, naming the field; null when it can. */
  #reject (item: unknown, receivedAt: number): { field: string, message: string } | null {
    const shape = shapeProblem(item, RECORD_SHAPE)
    if (shape !== null) return { field: shape.field, message: `${shape.field}: ${shape.message}` }
    if (!validateRecord.check(item)) {
      const [first] = validateRecord.errors(item, 1)
      return first === undefined
        ? { field: '/', message: 'record does not match the result schema' }
        : { field: first.field, message: `${first.field}: ${first.message}` }
    }
    const measuredAt = Date.parse(item.measuredAt)
    if (Number.isNaN(measuredAt)) return { field: '/measuredAt', message: '/measuredAt: not a valid timestamp' }
    // A wrong clock alone never refuses a result; only a time that is still more than a day
    // ahead once corrected by the agent's own, known, offset is implausible.
    if (item.clock.offsetMs !== null && measuredAt + item.clock.offsetMs - receivedAt > MAX_FUTURE_MS) {
      return { field: '/measuredAt', message: '/measuredAt: more than 1 day in the future even after the agent\'s clock correction' }
    }
    return null
  }

  #row (agent: AgentRow, agency: Agency, r: ResultRecord, receivedAt: number): Record<string, unknown> {
    const raw = JSON.stringify(r)
    const measuredAt = Date.parse(r.measuredAt)
    const clock = correctClock({ measuredAtMs: measuredAt, offsetMs: r.clock.offsetMs, sinceSyncS: r.clock.sinceSyncS, receivedAtMs: receivedAt })
    // The rollup listener files the row under these inside the transaction; computing them here
    // first makes a time they cannot handle (RangeError: Invalid time value) this record's error.
    vnMonth(clock.correctedMs)
    const flags = effectiveFlags(r)
    return {
      agentId: agent.id,
      resultId: r.id,
      seq: r.seq,
      kind: r.kind,
      schemaVersion: r.schemaVersion,
      status: r.status,
      measuredAt,
      measuredAtCorr: clock.correctedMs,
      receivedAt,
      clockFlags: clock.flags,
      family: r.server?.family ?? null,
      downloadMbps: r.download?.mbps ?? null,
      uploadMbps: r.upload?.mbps ?? null,
      idleLatencyMs: r.latency?.idle?.medianMs ?? null,
      loadedDownMs: r.download?.loaded?.medianMs ?? null,
      loadedUpMs: r.upload?.loaded?.medianMs ?? null,
      flags: flags.join(','),
      confidence: r.confidence,
      valid: isValidForTargets(r, flags) ? 1 : 0,
      agencyId: agency.id,
      connectionClass: agency.connectionClass,
      isp: agency.isp,
      communeCode: agency.communeCode,
      provinceCode: agency.provinceCode,
      legacyDistrictCode: agency.legacyDistrictCode,
      legacyProvinceCode: agency.legacyProvinceCode,
      // One-shot hash (no Hash object per record).
      payloadSha256: hash('sha256', raw, 'buffer'),
      raw,
      record: r
    }
  }
}
