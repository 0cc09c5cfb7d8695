import type Database from 'better-sqlite3'
import type { Db } from '../db.js'
import type {
  Agency, AgencyAgentRow, AgencyDetailRows, EnrolledCount, MonthPackKey, MonthRow, MonthRowsRead, PlaceRow, ProvinceChoiceRow,
  RecentResultRow, ReportContextRows, RollupChanges, RollupFilter, RollupReader, RollupScope, SetApartCounts, WholeTransferRows
} from '../stores.js'
import { selectAgencyScopes } from './fleet.js'
import { selectLinkLimitedResults } from './link-limited.js'
import { countSetApartForAgent, countSetApartForProvince } from './set-apart.js'
import { AREA_LEVELS, CURRENT_GEO_VERSION, LEGACY_GEO_VERSION, VERSION_LEVELS, type GeoVersion, type Level } from '../area-levels.js'
import { MONTH_ROW_COLUMNS, monthRowOf, type MonthRowTuple } from '../rows.js'
import { vnMonth } from '../../../shared/vn-time.js'
import { decodePack, encodePack } from '../month-pack.js'
import { rollupChangesSince, rollupGeneration } from './rollup-changes.js'

const SCOPES: readonly RollupScope[] = ['legacy_province_code', 'province_code']

/**
 * The reports' reads on SQLite. Never the raw result table for figures: the month rollups
 * (migration 020) and, for a province's closed months, their packs (migration 021,
 * month-pack.ts). Every method reads one snapshot (a read transaction) and writes nothing,
 * except `buildMonthPack`, the pack job's one write.
 */
export class SqliteRollupReader implements RollupReader {
  readonly #packGet: Database.Statement
  readonly #packPut: Database.Statement

  constructor (protected readonly db: Db) {
    this.#packGet = db.prepare('SELECT pack FROM rollup_month_pack WHERE month = ? AND scope = ? AND code = ?').pluck()
    this.#packPut = db.prepare(`INSERT INTO rollup_month_pack (month, scope, code, pack, built_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (month, scope, code) DO UPDATE SET pack = excluded.pack, built_at = excluded.built_at`)
  }

  /** Runs a read in one deferred transaction, so its statements see one snapshot. */
  #read<T> (fn: () => T): T {
    return this.db.inTransaction ? fn() : this.db.transaction(fn).deferred()
  }

  async rowsInRange (filter: RollupFilter, from: string | null, to: string | null): Promise<MonthRow[]> {
    return this.#query(filter, from, to)
  }

  async rowsByMonth (filter: RollupFilter, months: readonly string[], now: number): Promise<MonthRowsRead> {
    return this.#read(() => {
      const generation = rollupGeneration(this.db)
      const open = vnMonth(now)
      const out = new Map<string, MonthRow[]>()
      for (const month of months) {
        // The whole country (levels without a province) and the open month are read from the rows; they are not packed.
        out.set(month, month < open && filter.column !== null && filter.column !== 'agency_id'
          ? this.#packedMonth(filter.column, filter.code, month)
          : this.#query(filter, month, month))
      }
      return { generation, months: out }
    })
  }

  async changesSince (generation: number | null): Promise<RollupChanges> {
    return rollupChangesSince(this.db, generation)
  }

  async monthPacksMissing (now: number): Promise<MonthPackKey[]> {
    const open = vnMonth(now)
    return this.#read(() => SCOPES.flatMap((scope) => (this.db.prepare(`SELECT DISTINCT r.month, r.${scope} FROM rollup_agent_month r
        WHERE r.month < ? AND NOT EXISTS (SELECT 1 FROM rollup_month_pack p WHERE p.month = r.month AND p.scope = ? AND p.code = r.${scope})
        ORDER BY r.month DESC, r.${scope}`).raw(true).all(open, scope) as Array<[string, string]>)
      .map(([month, code]) => ({ month, scope, code }))))
  }

  /**
   * Reads the rows and stores the pack in one write transaction, so no rollup change can slip in
   * between (the triggers of migration 021 then drop it on the next change of its month).
   */
  async buildMonthPack (key: MonthPackKey, now: number): Promise<boolean> {
    if (key.month >= vnMonth(now)) return false // the open month changes with every batch: never packed
    return this.db.transaction(() => {
      const rows = this.#query({ column: key.scope, code: key.code }, key.month, key.month)
      if (rows.length === 0) return false
      this.#packPut.run(key.month, key.scope, key.code, encodePack(rows, 1), now)
      return true
    }).immediate()
  }

  async enrolledByArea (level: Level, province: string | null): Promise<EnrolledCount[]> {
    const spec = AREA_LEVELS[level]
    return this.db.prepare(`SELECT coalesce(g.${spec.column}, '') AS area, g.connection_class AS connectionClass, g.isp AS isp, count(*) AS agents
      FROM agent a JOIN agency g ON g.id = a.agency_id WHERE a.status = 'active'${province === null ? '' : ` AND g.${spec.provinceColumn} = ?`}
      GROUP BY 1, 2, 3`).all(...(province === null ? [] : [province])) as EnrolledCount[]
  }

  async enrolledAgencies (scope: RollupScope, code: string): Promise<number> {
    return this.db.prepare(`SELECT count(DISTINCT g.id) FROM agency g JOIN agent a ON a.agency_id = g.id AND a.status = 'active' WHERE g.${scope} = ?`).pluck().get(code) as number
  }

  async agencyPlans (): Promise<Array<[string, number | null]>> {
    return this.db.prepare('SELECT id, plan_down_mbps FROM agency').raw(true).all() as Array<[string, number | null]>
  }

  async contextRows (range: { fromMs: number, toMs: number } | null | undefined): Promise<ReportContextRows> {
    return this.#read(() => ({
      agencyScopes: selectAgencyScopes(this.db),
      linkLimited: range === undefined ? [] : selectLinkLimitedResults(this.db, range)
    }))
  }

  async agencyDetail (agencyId: string, range: { fromMs: number, toMs: number } | null, recent: number): Promise<AgencyDetailRows | undefined> {
    return this.#read(() => {
      const agency = this.db.prepare(`SELECT id, name, category, connection_class AS connectionClass, isp, plan_down_mbps AS planDownMbps,
        plan_up_mbps AS planUpMbps, commune_code AS communeCode, province_code AS provinceCode, legacy_commune_code AS legacyCommuneCode,
        legacy_district_code AS legacyDistrictCode, legacy_province_code AS legacyProvinceCode, placement_note AS placementNote, created_at AS createdAt
        FROM agency WHERE id = ?`).get(agencyId) as Agency | undefined
      if (agency === undefined) return undefined
      const agents = this.db.prepare(`SELECT id, name, status, last_seen_at AS lastSeenAt, agent_version AS agentVersion FROM agent
        WHERE agency_id = ? ORDER BY created_at, id`).all(agencyId) as AgencyAgentRow[]
      const recentOf = this.db.prepare(`SELECT agent_id AS agentId, result_id AS resultId, kind, status, measured_at_corr AS measuredAt, download_mbps AS downloadMbps,
        upload_mbps AS uploadMbps, idle_latency_ms AS idleLatencyMs, valid, flags, confidence FROM result WHERE agent_id = ? ORDER BY result_id DESC LIMIT ?`)
      const wholeOf = this.db.prepare(`SELECT json_extract(raw, '$.download.meanWholeMbps') AS d, json_extract(raw, '$.upload.meanWholeMbps') AS u
        FROM result WHERE agent_id = ? AND kind = 'speed' AND valid = 1`).raw(true)
      const wholeTransfer = new Map<string, WholeTransferRows>()
      const setApart = new Map<string, SetApartCounts>()
      for (const a of agents) {
        const rows = wholeOf.all(a.id) as Array<[number | null, number | null]>
        wholeTransfer.set(a.id, { down: rows.map((r) => r[0]), up: rows.map((r) => r[1]) })
        setApart.set(a.id, countSetApartForAgent(this.db, a.id, range))
      }
      const place = (table: string, version: string, code: string | null): PlaceRow | null => {
        if (code === null || code === '') return null
        const r = this.db.prepare(`SELECT code, name FROM ${table} WHERE version = ? AND code = ?`).get(version, code) as { code: string, name: string } | undefined
        return r === undefined ? { code, name: '', version } : { ...r, version }
      }
      return {
        agency,
        agents,
        recent: agents.flatMap((a) => recentOf.all(a.id, recent) as RecentResultRow[]),
        wholeTransfer,
        setApart,
        places: {
          commune: place('geo_commune', CURRENT_GEO_VERSION, agency.communeCode),
          province: place('geo_province', CURRENT_GEO_VERSION, agency.provinceCode),
          legacyCommune: place('geo_commune', LEGACY_GEO_VERSION, agency.legacyCommuneCode),
          legacyDistrict: place('geo_district', LEGACY_GEO_VERSION, agency.legacyDistrictCode),
          legacyProvince: place('geo_province', LEGACY_GEO_VERSION, agency.legacyProvinceCode)
        }
      }
    })
  }

  async setApartInProvince (province: string, legacy: boolean, range: { fromMs: number, toMs: number } | null): Promise<SetApartCounts> {
    return countSetApartForProvince(this.db, province, legacy, range)
  }

  async provinceChoices (version: GeoVersion): Promise<ProvinceChoiceRow[]> {
    const column = AREA_LEVELS[VERSION_LEVELS[version].province].provinceColumn
    return this.db.prepare(`SELECT p.code, p.name, count(g.id) AS agencies FROM geo_province p
        LEFT JOIN agency g ON g.${column} = p.code
        WHERE p.version = ? GROUP BY p.code, p.name ORDER BY agencies > 0 DESC, p.code`)
      .all(version) as ProvinceChoiceRow[]
  }

  /** A closed month of one province from its pack; without one (not built yet, or another layout), from the rows. */
  #packedMonth (scope: RollupScope, code: string, month: string): MonthRow[] {
    const blob = this.#packGet.get(month, scope, code) as Buffer | undefined
    if (blob !== undefined) {
      const rows = decodePack(blob, month)
      if (rows !== null) return rows
    }
    return this.#query({ column: scope, code }, month, month)
  }

  #query (filter: RollupFilter, from: string | null, to: string | null): MonthRow[] {
    const where: string[] = []
    const args: string[] = []
    if (filter.column !== null) { where.push(`${filter.column} = ?`); args.push(filter.code) }
    if (from !== null && to !== null) { where.push('month BETWEEN ? AND ?'); args.push(from, to) }
    const sql = `SELECT ${MONTH_ROW_COLUMNS} FROM rollup_agent_month${where.length > 0 ? ' WHERE ' + where.join(' AND ') : ''}`
    return (this.db.prepare(sql).raw(true).all(...args) as MonthRowTuple[]).map(monthRowOf)
  }
}
