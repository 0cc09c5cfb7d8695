import { createHash } from 'node:crypto'
import type { Db } from '../storage/db.js'
import type { Agency, AgentRow } from '../storage/agency-store.js'
import { DISQUALIFYING_FLAGS, RESULT_SCHEMA_MAJOR, ResultRecord, type ItemAck } from '../../shared/schemas/result.js'
import { compileValidator } from '../../shared/schemas/validate.js'
import { correctClock } from './clock.js'

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
export function isValidForTargets (r: ResultRecord): boolean {
  if (r.kind !== 'speed' || r.status !== 'ok' || r.download === null) return false
  if (r.confidence === 'low') return false
  return !r.flags.some((f) => DISQUALIFYING_FLAGS.includes(f))
}

/**
 * Stores a batch idempotently on (agent, result id), item by item, in one transaction: an
 * item is acknowledged only once that transaction has committed. A resend of the same
 * record is a `duplicate`; the same id with a different payload is a `conflict` and the
 * first copy is kept (fleet-protocol.md §7).
 */
/** The typed columns of a row as stored; what rollups and other listeners see. */
export type StoredRow = Record<string, unknown> & { agentId: string, resultId: string, kind: string, valid: number, measuredAtCorr: number }

export class Ingestor {
  readonly #db: Db
  readonly #listeners: Array<(rows: StoredRow[]) => void> = []
  readonly #insert
  readonly #existingHash

  constructor (db: Db) {
    this.#db = db
    this.#insert = db.prepare(`INSERT INTO result (agent_id, result_id, seq, kind, schema_version, status, measured_at,
      measured_at_corr, received_at, clock_flags, family, download_mbps, upload_mbps, idle_latency_ms,
      loaded_latency_down_ms, loaded_latency_up_ms, flags, confidence, valid, agency_id, connection_class, isp,
      commune_code, province_code, legacy_district_code, legacy_province_code, payload_sha256, raw)
      VALUES (@agentId, @resultId, @seq, @kind, @schemaVersion, @status, @measuredAt, @measuredAtCorr, @receivedAt,
      @clockFlags, @family, @downloadMbps, @uploadMbps, @idleLatencyMs, @loadedDownMs, @loadedUpMs, @flags, @confidence,
      @valid, @agencyId, @connectionClass, @isp, @communeCode, @provinceCode, @legacyDistrictCode, @legacyProvinceCode,
      @payloadSha256, @raw)
      ON CONFLICT (agent_id, result_id) DO NOTHING`)
    this.#existingHash = db.prepare('SELECT payload_sha256 FROM result WHERE agent_id = ? AND result_id = ?').pluck()
  }

  /**
   * Registers a listener called inside the ingest transaction with the rows accepted in it,
   * so derived data (rollups) commits or rolls back together with the results themselves.
   */
  onAccepted (listener: (rows: StoredRow[]) => void): void {
    this.#listeners.push(listener)
  }

  ingest (agent: AgentRow, agency: Agency, items: readonly unknown[], receivedAt = Date.now()): IngestOutcome {
    const out: IngestOutcome = { items: [], accepted: 0, duplicate: 0, conflict: 0, rejected: 0 }
    const rows: Array<{ index: number, params: Record<string, unknown> }> = []
    items.forEach((item, index) => {
      const id = typeof item === 'object' && item !== null && typeof (item as { id?: unknown }).id === 'string'
        ? (item as { id: string }).id
        : null
      const reason = this.#reject(item)
      if (reason !== null) {
        out.items[index] = { id, status: 'rejected', reason: reason.message, field: reason.field }
        out.rejected++
        return
      }
      rows.push({ index, params: this.#row(agent, agency, item as ResultRecord, receivedAt) })
    })

    this.#db.transaction(() => {
      const accepted: StoredRow[] = []
      for (const { index, params } of rows) {
        const id = params.resultId as string
        if (this.#insert.run(params).changes === 1) {
          out.items[index] = { id, status: 'accepted' }
          out.accepted++
          accepted.push(params as StoredRow)
          continue
        }
        const stored = this.#existingHash.get(agent.id, id) as Buffer
        if (stored.equals(params.payloadSha256 as Buffer)) {
          out.items[index] = { id, status: 'duplicate' }
          out.duplicate++
        } else {
          out.items[index] = { id, status: 'conflict', reason: 'a different record with this id is already stored; the first copy is kept' }
          out.conflict++
        }
      }
      if (accepted.length > 0) for (const listener of this.#listeners) listener(accepted)
    })()
    return out
  }

  /** Why an item cannot be stored, naming the field; null when it can. */
  #reject (item: unknown): { field: string, message: string } | null {
    if (!validateRecord.check(item)) {
      const [first] = validateRecord.errors(item, 1)
      const major = typeof item === 'object' && item !== null ? String((item as { schemaVersion?: unknown }).schemaVersion ?? '') : ''
      if (/^\d+\./.test(major) && Number(major.split('.')[0]) !== RESULT_SCHEMA_MAJOR) {
        return { field: '/schemaVersion', message: `unsupported schema major version ${major}; this collector accepts ${RESULT_SCHEMA_MAJOR}.x` }
      }
      return first === undefined
        ? { field: '/', message: 'record does not match the result schema' }
        : { field: first.field, message: `${first.field}: ${first.message}` }
    }
    if (Number.isNaN(Date.parse(item.measuredAt))) return { field: '/measuredAt', message: '/measuredAt: not a valid timestamp' }
    return null
  }

  #row (agent: AgentRow, agency: Agency, r: ResultRecord, receivedAt: number): Record<string, unknown> {
    const raw = JSON.stringify(r)
    const measuredAt = Date.parse(r.measuredAt)
    const clock = correctClock({ measuredAtMs: measuredAt, offsetMs: r.clock.offsetMs, sinceSyncS: r.clock.sinceSyncS, receivedAtMs: receivedAt })
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
      flags: r.flags.join(','),
      confidence: r.confidence,
      valid: isValidForTargets(r) ? 1 : 0,
      agencyId: agency.id,
      connectionClass: agency.connectionClass,
      isp: agency.isp,
      communeCode: agency.communeCode,
      provinceCode: agency.provinceCode,
      legacyDistrictCode: agency.legacyDistrictCode,
      legacyProvinceCode: agency.legacyProvinceCode,
      payloadSha256: createHash('sha256').update(raw).digest(),
      raw
    }
  }
}
