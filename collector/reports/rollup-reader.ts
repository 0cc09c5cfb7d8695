import type Database from 'better-sqlite3'
import type { Db } from '../storage/db.js'
import { decode } from '../aggregation/float-blob.js'
import type { TimeBand } from '../aggregation/time-bands.js'
import { vnMonth } from '../../shared/vn-time.js'
import type { Period } from '../../shared/period.js'
import { monthCacheOf } from '../aggregation/month-cache.js'
import { decodePack, encodePack } from './month-pack.js'
import type { MonthRow } from './month-row.js'

export type { MonthRow }

export type RollupFilter =
  | { column: 'legacy_province_code' | 'province_code' | 'agency_id', code: string }
  | { column: null }

const COLUMNS = `agent_id, agency_id, month, band, connection_class, isp, commune_code, province_code, legacy_district_code,
  legacy_province_code, n_results, n_speed, n_valid, n_skip, sum_test_down, n_test_up, sum_test_up, n_test_idle, sum_test_idle,
  n_test_down_ge30, rep_down, rep_up, rep_idle`

type RawRow = [string, string, string, TimeBand, string, string, string, string, string, string, number, number, number, number,
  number, number, number, number, number, number, Buffer, Buffer, Buffer]

/**
 * Reads the month rollups of one province (either geography), one agency or everything, for a
 * period. Never the raw table. A province's closed months come from their packs
 * (month-pack.ts), built from the rows by the first report that needs them; the open month, the
 * whole country, agencies and `period=all` read the rows. Decoded months stay in the in-memory cache when the
 * collector turned it on.
 */
export function readMonthRows (db: Db, filter: RollupFilter, period: Period, now = Date.now()): MonthRow[] {
  if (period.months === null || filter.column === 'agency_id') return query(db, filter, period)
  const cache = monthCacheOf<MonthRow>(db)
  cache?.checkForeignWrites(db)
  const open = vnMonth(now)
  const out: MonthRow[] = []
  for (const month of period.months) {
    const key = filter.column === null ? `*||${month}` : `${filter.column}|${filter.code}|${month}`
    let rows = cache?.get(key)
    if (rows === undefined) {
      // The whole country (levels without a province) is read from the rows; it is not packed.
      rows = month < open && filter.column !== null
        ? packedMonth(db, filter.column, filter.code, month)
        : query(db, filter, { kind: 'month', from: month, to: month, months: [month] })
      if (cache !== undefined) {
        let bytes = 200 * rows.length
        for (const r of rows) bytes += r.repDown.byteLength + r.repUp.byteLength + r.repIdle.byteLength
        cache.set(key, month, rows, bytes)
      }
    }
    for (const r of rows) out.push(r)
  }
  return out
}

/**
 * A closed month of one province from its pack; without one, from the rows, storing the pack in
 * the same write transaction so no rollup change can slip in between the read and the write
 * (the triggers of migration 021 then drop it on the next change). When the pack cannot be
 * stored (inside a caller's transaction, or the database is busy or read-only) the rows are
 * served as read.
 */
function packedMonth (db: Db, scope: 'legacy_province_code' | 'province_code', code: string, month: string): MonthRow[] {
  const blob = packGet(db).get(month, scope, code) as Buffer | undefined
  if (blob !== undefined) {
    const rows = decodePack(blob, month)
    if (rows !== null) return rows
  }
  const read = (): MonthRow[] => query(db, { column: scope, code }, { kind: 'month', from: month, to: month, months: [month] })
  if (db.inTransaction || db.readonly) return read()
  try {
    return db.transaction(() => {
      const rows = read()
      packPut(db).run(month, scope, code, encodePack(rows), Date.now())
      return rows
    }).immediate()
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('SQLITE_') === true) return read()
    throw err
  }
}

const statements = new WeakMap<Db, { get: Database.Statement, put: Database.Statement }>()
function packStatements (db: Db): { get: Database.Statement, put: Database.Statement } {
  let s = statements.get(db)
  if (s === undefined) {
    s = {
      get: db.prepare('SELECT pack FROM rollup_month_pack WHERE month = ? AND scope = ? AND code = ?').pluck(),
      put: db.prepare(`INSERT INTO rollup_month_pack (month, scope, code, pack, built_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (month, scope, code) DO UPDATE SET pack = excluded.pack, built_at = excluded.built_at`)
    }
    statements.set(db, s)
  }
  return s
}
const packGet = (db: Db): Database.Statement => packStatements(db).get
const packPut = (db: Db): Database.Statement => packStatements(db).put

function query (db: Db, filter: RollupFilter, period: Period): MonthRow[] {
  const where: string[] = []
  const args: string[] = []
  if (filter.column !== null) { where.push(`${filter.column} = ?`); args.push(filter.code) }
  if (period.from !== null && period.to !== null) { where.push('month BETWEEN ? AND ?'); args.push(period.from, period.to) }
  const sql = `SELECT ${COLUMNS} FROM rollup_agent_month${where.length > 0 ? ' WHERE ' + where.join(' AND ') : ''}`
  const rows = db.prepare(sql).raw(true).all(...args) as RawRow[]
  const out = new Array<MonthRow>(rows.length)
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as RawRow
    out[i] = {
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
  return out
}
