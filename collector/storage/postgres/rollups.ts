import type pg from 'pg'
import type {
  Agency, AgencyAgentRow, AgencyDetailRows, EnrolledCount, MonthPackKey, MonthRow, MonthRowsRead, PlaceRow, ProvinceChoiceRow,
  RecentResultRow, ReportContextRows, RollupChanges, RollupFilter, RollupReader, RollupScope, WholeTransferRows, AgencyScopeRow,
  LinkLimitedRow, SetApartCounts
} from '../stores.js'
import { countSetApart } from '../rows.js'
import { AREA_LEVELS, CURRENT_GEO_VERSION, LEGACY_GEO_VERSION, VERSION_LEVELS, provinceLevelOf, type GeoVersion, type Level } from '../area-levels.js'
import { MONTH_ROW_COLUMNS, monthRowOf, type MonthRowTuple } from '../rows.js'
import { vnMonth } from '../../../shared/vn-time.js'
import { RollupChangeLog } from './changes.js'
import { inTransaction } from './pool.js'
import { packGeneration, packsMissing, readPacks, storePack } from './month-pack.js'

type Queryable = Pick<pg.ClientBase, 'query'>

const SCOPES: readonly RollupScope[] = ['legacy_province_code', 'province_code']
const SET_APART = "kind = 'speed' AND (strpos(flags, 'wifi') > 0 OR strpos(flags, 'vpn') > 0)"

/**
 * The reports' reads on PostgreSQL, the same rows as SQLite's (sqlite/rollups.ts): the month
 * rollups and, for a province's closed months, their current packs (month-pack.ts). Every
 * method that reads more than one statement reads one snapshot (a REPEATABLE READ, READ ONLY
 * transaction); nothing writes but `buildMonthPack`, the pack job's. Orders that a report can
 * see are byte orders (COLLATE "C"), as SQLite's, whatever the database's locale.
 */
export class PostgresRollupReader implements RollupReader {
  readonly #pool: pg.Pool
  readonly #changes = new RollupChangeLog()

  constructor (pool: pg.Pool) {
    this.#pool = pool
  }

  /** A read-only snapshot: a report's several reads see one state of the store. */
  async #read<T> (fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return await inTransaction(this.#pool, fn, { snapshot: true })
  }

  async rowsInRange (filter: RollupFilter, from: string | null, to: string | null): Promise<MonthRow[]> {
    return await query(this.#pool, filter, from, to)
  }

  async rowsByMonth (filter: RollupFilter, months: readonly string[], now: number): Promise<MonthRowsRead> {
    return await this.#read(async (client) => {
      const generation = this.#changes.observe(await RollupChangeLog.read(client))
      const open = vnMonth(now)
      // The whole country (levels without a province) and the open month are read from the rows; they are not packed.
      const packed = filter.column !== null && filter.column !== 'agency_id'
        ? await readPacks(client, filter.column, filter.code, months.filter((m) => m < open))
        : new Map<string, MonthRow[]>()
      // Every month without a current pack in one statement.
      const read = await queryMonths(client, filter, months.filter((m) => !packed.has(m)))
      const out = new Map<string, MonthRow[]>()
      for (const month of months) out.set(month, packed.get(month) ?? read.get(month) ?? [])
      return { generation, months: out }
    })
  }

  async changesSince (generation: number | null): Promise<RollupChanges> {
    this.#changes.observe(await RollupChangeLog.read(this.#pool))
    return this.#changes.since(generation)
  }

  async monthPacksMissing (now: number): Promise<MonthPackKey[]> {
    const open = vnMonth(now)
    return await this.#read(async (client) => {
      const out: MonthPackKey[] = []
      for (const scope of SCOPES) out.push(...await packsMissing(client, scope, open))
      return out
    })
  }

  /**
   * Reads the month's rows and its pack generation in one snapshot, then stores the pack
   * stamped with that generation: a change committed meanwhile has raised the month's
   * generation, so the pack is stale from the start and never served.
   */
  async buildMonthPack (key: MonthPackKey, now: number): Promise<boolean> {
    if (key.month >= vnMonth(now)) return false // the open month changes with every batch: never packed
    const read = await this.#read(async (client) => ({
      generation: await packGeneration(client, key.month),
      rows: await query(client, { column: key.scope, code: key.code }, key.month, key.month)
    }))
    if (read.rows.length === 0) return false
    await storePack(this.#pool, key, read.rows, read.generation, now)
    return true
  }

  async enrolledByArea (level: Level, province: string | null): Promise<EnrolledCount[]> {
    const spec = AREA_LEVELS[level]
    const { rows } = await this.#pool.query<EnrolledCount>(`SELECT coalesce(g.${spec.column}, '') AS area, g.connection_class AS "connectionClass",
      g.isp AS isp, count(*)::int AS agents
      FROM agent a JOIN agency g ON g.id = a.agency_id WHERE a.status = 'active'${province === null ? '' : ` AND g.${spec.provinceColumn} = $1`}
      GROUP BY 1, 2, 3`, province === null ? [] : [province])
    return rows
  }

  async enrolledAgencies (scope: RollupScope, code: string): Promise<number> {
    const { rows } = await this.#pool.query<{ n: number }>(`SELECT count(DISTINCT g.id)::int AS n FROM agency g
      JOIN agent a ON a.agency_id = g.id AND a.status = 'active' WHERE g.${scope} = $1`, [code])
    return rows[0]?.n ?? 0
  }

  async agencyPlans (): Promise<Array<[string, number | null]>> {
    const { rows } = await this.#pool.query<[string, number | null]>({ text: 'SELECT id, plan_down_mbps FROM agency', rowMode: 'array' })
    return rows
  }

  async contextRows (range: { fromMs: number, toMs: number } | null | undefined): Promise<ReportContextRows> {
    return await this.#read(async (client) => ({
      agencyScopes: (await client.query<AgencyScopeRow>({
        text: `SELECT g.id, g.category, c.full_name, c.name, g.high_tech_zone FROM agency g
          LEFT JOIN geo_commune c ON c.version = '2025-07' AND c.code = g.commune_code`,
        rowMode: 'array'
      })).rows,
      linkLimited: range === undefined ? [] : await linkLimited(client, range)
    }))
  }

  async agencyDetail (agencyId: string, range: { fromMs: number, toMs: number } | null, recent: number): Promise<AgencyDetailRows | undefined> {
    return await this.#read(async (client) => {
      const agency = (await client.query<Agency>(`SELECT id, name, category, connection_class AS "connectionClass", isp, plan_down_mbps AS "planDownMbps",
        plan_up_mbps AS "planUpMbps", commune_code AS "communeCode", province_code AS "provinceCode", legacy_commune_code AS "legacyCommuneCode",
        legacy_district_code AS "legacyDistrictCode", legacy_province_code AS "legacyProvinceCode", placement_note AS "placementNote", created_at AS "createdAt"
        FROM agency WHERE id = $1`, [agencyId])).rows[0]
      if (agency === undefined) return undefined
      const agents = (await client.query<AgencyAgentRow>(`SELECT id, name, status, last_seen_at AS "lastSeenAt", agent_version AS "agentVersion" FROM agent
        WHERE agency_id = $1 ORDER BY created_at, id COLLATE "C"`, [agencyId])).rows
      const wholeTransfer = new Map<string, WholeTransferRows>()
      const setApart = new Map<string, SetApartCounts>()
      const recentRows: RecentResultRow[] = []
      for (const a of agents) {
        recentRows.push(...(await client.query<RecentResultRow>(`SELECT agent_id AS "agentId", result_id AS "resultId", kind, status, measured_at_corr AS "measuredAt",
          download_mbps AS "downloadMbps", upload_mbps AS "uploadMbps", idle_latency_ms AS "idleLatencyMs", valid, flags, confidence
          FROM result WHERE agent_id = $1 ORDER BY result_id COLLATE "C" DESC LIMIT $2`, [a.id, recent])).rows)
        const whole = (await client.query<[number | null, number | null]>({
          text: `SELECT (raw::json #>> '{download,meanWholeMbps}')::float8, (raw::json #>> '{upload,meanWholeMbps}')::float8
            FROM result WHERE agent_id = $1 AND kind = 'speed' AND valid = 1`,
          values: [a.id],
          rowMode: 'array'
        })).rows
        wholeTransfer.set(a.id, { down: whole.map((r) => r[0]), up: whole.map((r) => r[1]) })
        setApart.set(a.id, await setApartOf(client, 'agent_id', a.id, range))
      }
      const place = async (table: string, version: string, code: string | null): Promise<PlaceRow | null> => {
        if (code === null || code === '') return null
        const r = (await client.query<{ code: string, name: string }>(`SELECT code, name FROM ${table} WHERE version = $1 AND code = $2`, [version, code])).rows[0]
        return r === undefined ? { code, name: '', version } : { ...r, version }
      }
      return {
        agency,
        agents,
        recent: recentRows,
        wholeTransfer,
        setApart,
        places: {
          commune: await place('geo_commune', CURRENT_GEO_VERSION, agency.communeCode),
          province: await place('geo_province', CURRENT_GEO_VERSION, agency.provinceCode),
          legacyCommune: await place('geo_commune', LEGACY_GEO_VERSION, agency.legacyCommuneCode),
          legacyDistrict: await place('geo_district', LEGACY_GEO_VERSION, agency.legacyDistrictCode),
          legacyProvince: await place('geo_province', LEGACY_GEO_VERSION, agency.legacyProvinceCode)
        }
      }
    })
  }

  async setApartInProvince (province: string, legacy: boolean, range: { fromMs: number, toMs: number } | null): Promise<SetApartCounts> {
    const column = provinceLevelOf(legacy ? LEGACY_GEO_VERSION : CURRENT_GEO_VERSION).provinceColumn
    return await setApartOf(this.#pool, column, province, range)
  }

  async provinceChoices (version: GeoVersion): Promise<ProvinceChoiceRow[]> {
    const column = AREA_LEVELS[VERSION_LEVELS[version].province].provinceColumn
    const { rows } = await this.#pool.query<ProvinceChoiceRow>(`SELECT p.code, p.name, count(g.id)::int AS agencies FROM geo_province p
        LEFT JOIN agency g ON g.${column} = p.code
        WHERE p.version = $1 GROUP BY p.code, p.name ORDER BY count(g.id) > 0 DESC, p.code COLLATE "C"`, [version])
    return rows
  }
}

/**
 * The rows of a filter, in the order SQLite reads them, so a report adds the same floats in
 * the same order on both stores and its figures match to the last digit: through its (scope,
 * month) indexes by month, then by id (creation order); without a filter, the table in id order.
 */
async function query (client: Queryable, filter: RollupFilter, from: string | null, to: string | null): Promise<MonthRow[]> {
  const where: string[] = []
  const args: string[] = []
  if (filter.column !== null) { args.push(filter.code); where.push(`${filter.column} = $${args.length}`) }
  if (from !== null && to !== null) { args.push(from, to); where.push(`month BETWEEN $${args.length - 1} AND $${args.length}`) }
  return await selectMonthRows(client, filter, where, args)
}

/** The rows of each of `months` (in one statement), by month. */
async function queryMonths (client: Queryable, filter: RollupFilter, months: readonly string[]): Promise<Map<string, MonthRow[]>> {
  const out = new Map<string, MonthRow[]>()
  if (months.length === 0) return out
  const where = ['month = ANY($1::text[])']
  const args: Array<string | string[]> = [[...months]]
  if (filter.column !== null) { args.push(filter.code); where.push(`${filter.column} = $2`) }
  for (const row of await selectMonthRows(client, filter, where, args)) {
    const list = out.get(row.month)
    if (list === undefined) out.set(row.month, [row])
    else list.push(row)
  }
  return out
}

async function selectMonthRows (client: Queryable, filter: RollupFilter, where: readonly string[], args: ReadonlyArray<string | string[]>): Promise<MonthRow[]> {
  const { rows } = await client.query<MonthRowTuple>({
    text: `SELECT ${MONTH_ROW_COLUMNS} FROM rollup_agent_month${where.length > 0 ? ' WHERE ' + where.join(' AND ') : ''}
      ORDER BY ${filter.column === null ? 'id' : 'month COLLATE "C", id'}`,
    values: [...args],
    rowMode: 'array'
  })
  return rows.map(monthRowOf)
}

/** The speed results that may bound a line from below (as sqlite/link-limited.ts; the partial index of migration 041). */
async function linkLimited (client: Queryable, range: { fromMs: number, toMs: number } | null): Promise<LinkLimitedRow[]> {
  const { rows } = await client.query<LinkLimitedRow>({
    text: `SELECT agent_id, download_mbps, flags FROM result
      WHERE kind = 'speed' AND status = 'ok' AND valid = 0 AND download_mbps IS NOT NULL
        AND (confidence IS NULL OR confidence <> 'low') AND strpos(flags, 'local_link_limited') > 0${range === null ? '' : ' AND measured_at_corr >= $1 AND measured_at_corr < $2'}`,
    values: range === null ? [] : [range.fromMs, range.toMs],
    rowMode: 'array'
  })
  return rows
}

/** Set-apart speed results of one agent or one province column, in [fromMs, toMs) or ever (as sqlite/set-apart.ts). */
async function setApartOf (client: Queryable, column: 'agent_id' | 'legacy_province_code' | 'province_code', value: string,
  range: { fromMs: number, toMs: number } | null): Promise<SetApartCounts> {
  const { rows } = await client.query<[string]>({
    text: `SELECT flags FROM result WHERE ${column} = $1 AND ${SET_APART}${range === null ? '' : ' AND measured_at_corr >= $2 AND measured_at_corr < $3'}`,
    values: range === null ? [value] : [value, range.fromMs, range.toMs],
    rowMode: 'array'
  })
  return countSetApart(rows)
}
