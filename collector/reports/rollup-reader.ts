import type { Db } from '../storage/db.js'
import { decode } from '../aggregation/float-blob.js'
import type { TimeBand } from '../aggregation/time-bands.js'
import type { Period } from './period.js'

/** One rollup_agent_month row with its samples decoded. */
export interface MonthRow {
  agentId: string
  agencyId: string
  month: string
  band: TimeBand
  connectionClass: string
  isp: string
  communeCode: string
  provinceCode: string
  legacyDistrictCode: string
  legacyProvinceCode: string
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

export type RollupFilter =
  | { column: 'legacy_province_code' | 'province_code' | 'agency_id', code: string }
  | { column: null }

const COLUMNS = `agent_id AS agentId, agency_id AS agencyId, month, band, connection_class AS connectionClass, isp,
  commune_code AS communeCode, province_code AS provinceCode, legacy_district_code AS legacyDistrictCode,
  legacy_province_code AS legacyProvinceCode, n_results AS nResults, n_speed AS nSpeed, n_valid AS nValid, n_skip AS nSkip,
  sum_test_down AS sumTestDown, n_test_up AS nTestUp, sum_test_up AS sumTestUp, n_test_idle AS nTestIdle,
  sum_test_idle AS sumTestIdle, n_test_down_ge30 AS nTestDownGe30, rep_down AS repDown, rep_up AS repUp, rep_idle AS repIdle`

/** Reads the month rollups of one province (either geography) or of everything, for a period. Never the raw table. */
export function readMonthRows (db: Db, filter: RollupFilter, period: Period): MonthRow[] {
  const where: string[] = []
  const args: string[] = []
  if (filter.column !== null) { where.push(`${filter.column} = ?`); args.push(filter.code) }
  if (period.from !== null && period.to !== null) { where.push('month BETWEEN ? AND ?'); args.push(period.from, period.to) }
  const sql = `SELECT ${COLUMNS} FROM rollup_agent_month${where.length > 0 ? ' WHERE ' + where.join(' AND ') : ''}`
  const rows = db.prepare(sql).all(...args) as Array<Omit<MonthRow, 'repDown' | 'repUp' | 'repIdle'> & { repDown: Buffer, repUp: Buffer, repIdle: Buffer }>
  return rows.map((r) => ({ ...r, repDown: decode(r.repDown), repUp: decode(r.repUp), repIdle: decode(r.repIdle) }))
}
