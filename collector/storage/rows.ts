import type { AuditEntry, GeoSeedRow, MonthRow, SetApartCounts } from './stores.js'
import type { MonthCounters } from '../aggregation/rollup.js'
import type { TimeBand } from '../aggregation/time-bands.js'
import { decode } from '../aggregation/float-blob.js'

/**
 * Stored rows as both backends read them, and their decoding: one definition, so the SQLite
 * and PostgreSQL stores hand the rest of the collector the same values. No driver here.
 */

// ── rollup_agent_month (migration 020 on both) ──

/** The columns a report reads, in the order of `MonthRowTuple`. */
export const MONTH_ROW_COLUMNS = `agent_id, agency_id, month, band, connection_class, isp, commune_code, province_code, legacy_district_code,
  legacy_province_code, n_results, n_speed, n_valid, n_skip, sum_test_down, n_test_up, sum_test_up, n_test_idle, sum_test_idle,
  n_test_down_ge30, rep_down, rep_up, rep_idle`

/** One row of `MONTH_ROW_COLUMNS`, read as an array (better-sqlite3 `raw`, pg `rowMode: 'array'`). */
export type MonthRowTuple = [string, string, string, TimeBand, string, string, string, string, string, string, number, number, number, number,
  number, number, number, number, number, number, Buffer, Buffer, Buffer]

export function monthRowOf (r: MonthRowTuple): MonthRow {
  return {
    agentId: r[0],
    agencyId: r[1],
    month: r[2],
    band: r[3],
    connectionClass: r[4],
    isp: r[5],
    communeCode: r[6],
    provinceCode: r[7],
    legacyDistrictCode: r[8],
    legacyProvinceCode: r[9],
    nResults: r[10],
    nSpeed: r[11],
    nValid: r[12],
    nSkip: r[13],
    sumTestDown: r[14],
    nTestUp: r[15],
    sumTestUp: r[16],
    nTestIdle: r[17],
    sumTestIdle: r[18],
    nTestDownGe30: r[19],
    repDown: decode(r[20]),
    repUp: decode(r[21]),
    repIdle: decode(r[22])
  }
}

/** The counters of a stored month row, as the rollup writers read them back to add a group. */
export const MONTH_COUNTER_COLUMNS = `n_results, n_speed, n_valid, n_skip, sum_test_down, n_test_up, sum_test_up,
  n_test_idle, sum_test_idle, n_test_down_ge30, rep_down, rep_up, rep_idle`

export interface StoredMonthCounters {
  n_results: number
  n_speed: number
  n_valid: number
  n_skip: number
  sum_test_down: number
  n_test_up: number
  sum_test_up: number
  n_test_idle: number
  sum_test_idle: number
  n_test_down_ge30: number
  rep_down: Buffer
  rep_up: Buffer
  rep_idle: Buffer
}

export function monthCountersOf (r: StoredMonthCounters): MonthCounters {
  return {
    nResults: r.n_results,
    nSpeed: r.n_speed,
    nValid: r.n_valid,
    nSkip: r.n_skip,
    sumTestDown: r.sum_test_down,
    nTestUp: r.n_test_up,
    sumTestUp: r.sum_test_up,
    nTestIdle: r.n_test_idle,
    sumTestIdle: r.sum_test_idle,
    nTestDownGe30: r.n_test_down_ge30,
    repDown: decode(r.rep_down),
    repUp: decode(r.rep_up),
    repIdle: decode(r.rep_idle)
  }
}

// ── admin_audit (migration 040 on both) ──

export interface AuditRow { id: number, at: number, actor: string, via: string, action: string, target: string | null, summary: string, client_ip: string, status: number }

export function auditEntryOf (r: AuditRow): AuditEntry {
  return {
    id: r.id,
    at: r.at,
    actor: r.actor,
    via: r.via === 'cli' ? 'cli' : 'api',
    action: r.action,
    target: r.target,
    summary: JSON.parse(r.summary) as Record<string, unknown>,
    clientIp: r.client_ip,
    status: r.status
  }
}

// ── geography seeds ──

/** Whether the stored rows of a geography table are exactly the seed's, column by column. */
export function sameRows (a: unknown[][], b: readonly GeoSeedRow[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as unknown[]
    const y = b[i] as GeoSeedRow
    for (let j = 0; j < y.length; j++) if (x[j] !== y[j]) return false
  }
  return true
}

// ── result flags: the speed results set apart (methodology.md §11) ──

/** Wi-Fi and VPN counts of result flag lists (one per row). */
export function countSetApart (rows: Array<[string]>): SetApartCounts {
  const out = { wifi: 0, vpn: 0 }
  for (const [flags] of rows) {
    const list = flags.split(',')
    // A result both over Wi-Fi and through a VPN is counted once, as VPN (the tunnel is what it measured last).
    if (list.includes('vpn')) out.vpn++
    else if (list.includes('wifi')) out.wifi++
  }
  return out
}
