/**
 * What the report rollups are (rollup_agent_hour and rollup_agent_month, migration 020): the
 * definition's version and the shapes the writer (storage/sqlite/rollup-writer.ts, inside the
 * ingest transaction) and the report reader share.
 */

/** Bump when the rollup definition changes; the collector then rebuilds once at start. */
export const ROLLUP_VERSION = 1

/** The stamped columns of a stored result that rollups need (camelCase, as ingest hands them over). */
export interface RollupInput {
  agentId: string
  kind: string
  valid: number
  measuredAtCorr: number
  clockFlags: number
  downloadMbps: number | null
  uploadMbps: number | null
  idleLatencyMs: number | null
  agencyId: string
  connectionClass: string
  isp: string
  communeCode: string
  provinceCode: string
  legacyDistrictCode: string | null
  legacyProvinceCode: string | null
}

/**
 * The per agent × month × band figures that rollup_agent_month keeps: coverage counters,
 * per-test sums for the QCVN checks, and the representative samples (sorted). The writer
 * here and the report reader share this one shape.
 */
export interface MonthCounters {
  nResults: number
  nSpeed: number
  nValid: number
  nSkip: number
  sumTestDown: number
  nTestUp: number
  sumTestUp: number
  nTestIdle: number
  sumTestIdle: number
  nTestDownGe30: number
  repDown: Float64Array
  repUp: Float64Array
  repIdle: Float64Array
}
