import { hash } from 'node:crypto'
import type { Agency, AgentRow, IngestOutcome, PreparedBatch, ResultRow, ResultStore } from '../storage/stores.js'
import { DISQUALIFYING_FLAGS, RESULT_SCHEMA_MAJOR, effectiveFlags, ResultRecord, type ItemAck } from '../../shared/schemas/result.js'
import { compileValidator } from '../../shared/schemas/validate.js'
import { correctClock } from './clock.js'
import { RECORD_SHAPE, shapeProblem } from '../../shared/schemas/shape.js'
import { vnMonth } from '../../shared/vn-time.js'
import { TocdoError } from '../../shared/errors.js'

const validateRecord = compileValidator(ResultRecord)

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

/** Results timestamped more than this far ahead, after the agent's own correction, are refused. */
const MAX_FUTURE_MS = 86_400_000

/**
 * The CPU-heavy, pure part of ingest: validation and row building, done in the request with no
 * storage access, so the store's transaction (ResultStore.commitGroup) only writes. Storing is
 * idempotent on (agent, result id): a resend of the same record is a `duplicate`; the same id
 * with a different payload is a `conflict` and the first copy is kept (fleet-protocol.md §7).
 */
export class Ingestor {
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
      let row: ResultRow | null = null
      if (reason === null) {
        try {
          row = this.#row(agent, agency, item as ResultRecord, receivedAt)
        } catch (err) {
          reason = { field: '/', message: `record could not be processed: ${(err as Error).message}` }
        }
      }
      if (reason !== null || row === null) {
        const id = typeof item === 'object' && item !== null && typeof (item as { id?: unknown }).id === 'string'
          ? ((item as { id: string }).id).slice(0, 64)
          : null
        batch.items[index] = { id, status: 'rejected', reason: reason?.message ?? 'record could not be processed', field: reason?.field ?? '/' }
        batch.rejected++
        return
      }
      batch.rows.push({ index, row })
    })
    return batch
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

  #row (agent: AgentRow, agency: Agency, r: ResultRecord, receivedAt: number): ResultRow {
    const raw = JSON.stringify(r)
    const measuredAt = Date.parse(r.measuredAt)
    const clock = correctClock({ measuredAtMs: measuredAt, offsetMs: r.clock.offsetMs, sinceSyncS: r.clock.sinceSyncS, receivedAtMs: receivedAt })
    // The rollup writer files the row under these inside the transaction; computing them here
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

/** Validates and stores one batch as a group of its own (CLI, sample data and tests); resolves once durable. */
export async function ingestAlone (store: ResultStore, ingestor: Ingestor, agent: AgentRow, agency: Agency, items: readonly unknown[], receivedAt = Date.now()): Promise<IngestOutcome> {
  const { outcomes: [outcome] } = await store.commitGroup([{ batch: ingestor.prepare(agent, agency, items, receivedAt), seen: null }])
  return outcome as IngestOutcome
}
