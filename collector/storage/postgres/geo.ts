import type { CommuneSource, GeoArea, GeoCommuneArea, GeographyRows, GeoStore, PlacementRows, StoredTarget, TargetEntry } from '../stores.js'
import { AREA_LEVELS, GEO_VERSIONS, type GeoVersion, type Level } from '../area-levels.js'
import { inTransaction, type Pool, type PoolClient } from './pool.js'
import { sameRows } from '../rows.js'

/**
 * The transaction-level advisory lock replaceGeography holds: two collectors starting together
 * compare and replace one after the other, so the second finds the geography unchanged
 * (SQLite gets the same from BEGIN IMMEDIATE).
 */
const GEOGRAPHY_LOCK_KEY = 7_312_002

/** Rows sort byte-wise (COLLATE "C"), as SQLite's BINARY collation and the seeds' primary-key order do. */
const C = 'COLLATE "C"'

/** The seed tables, their columns in `GeographyRows` order, and the order their rows are compared in. */
const TABLES: ReadonlyArray<{ key: keyof GeographyRows, table: string, columns: string[], order: string, versioned: boolean }> = [
  { key: 'provinces', table: 'geo_province', columns: ['version', 'code', 'name', 'full_name', 'name_en'], order: `version ${C}, code ${C}`, versioned: true },
  { key: 'districts', table: 'geo_district', columns: ['version', 'code', 'province_code', 'name', 'full_name', 'name_en'], order: `version ${C}, code ${C}`, versioned: true },
  { key: 'communes', table: 'geo_commune', columns: ['version', 'code', 'province_code', 'district_code', 'name', 'full_name', 'name_en'], order: `version ${C}, code ${C}`, versioned: true },
  { key: 'merges', table: 'geo_commune_merge', columns: ['new_code', 'old_code', 'type'], order: `new_code ${C}, old_code ${C}`, versioned: false },
  { key: 'provinceMerges', table: 'geo_province_merge', columns: ['new_code', 'old_code'], order: `new_code ${C}, old_code ${C}`, versioned: false }
]

const VERSIONS = `version IN ('${GEO_VERSIONS.join("','")}')`

/**
 * Compares the stored geography with `want` and replaces it when it differs, in one
 * transaction (about 25,000 rows; each table is inserted with one statement over arrays).
 */
async function replaceGeography (c: PoolClient, want: GeographyRows): Promise<{ unchanged: boolean }> {
  await c.query('SELECT pg_advisory_xact_lock($1)', [GEOGRAPHY_LOCK_KEY])
  let unchanged = true
  for (const t of TABLES) {
    const { rows } = await c.query<unknown[]>({
      text: `SELECT ${t.columns.join(', ')} FROM ${t.table}${t.versioned ? ` WHERE ${VERSIONS}` : ''} ORDER BY ${t.order}`,
      rowMode: 'array'
    })
    if (!sameRows(rows, want[t.key])) { unchanged = false; break }
  }
  if (unchanged) return { unchanged }
  for (const t of TABLES) await c.query(`DELETE FROM ${t.table}${t.versioned ? ` WHERE ${VERSIONS}` : ''}`)
  for (const t of TABLES) {
    const rows = want[t.key]
    if (rows.length === 0) continue
    const columns = t.columns.map((_, j) => rows.map((r) => r[j] ?? null))
    await c.query(`INSERT INTO ${t.table} (${t.columns.join(', ')}) SELECT * FROM unnest(${t.columns.map((_, j) => `$${j + 1}::text[]`).join(', ')})`, columns)
  }
  return { unchanged }
}

/** See GeoStore.placementRows. */
async function placementRows (c: PoolClient, codes: readonly string[] | null): Promise<PlacementRows> {
  const communeColumns = 'version, code, province_code AS "provinceCode", district_code AS "districtCode"'
  const mergeColumns = 'new_code AS "newCode", old_code AS "oldCode", type'
  if (codes === null) {
    return {
      communes: (await c.query<PlacementRows['communes'][number]>(`SELECT ${communeColumns} FROM geo_commune`)).rows,
      districts: (await c.query<PlacementRows['districts'][number]>("SELECT code, province_code AS \"provinceCode\" FROM geo_district WHERE version = '2025-03'")).rows,
      merges: (await c.query<PlacementRows['merges'][number]>(`SELECT ${mergeColumns} FROM geo_commune_merge`)).rows
    }
  }
  const merges = (await c.query<PlacementRows['merges'][number]>(`SELECT ${mergeColumns} FROM geo_commune_merge
    WHERE new_code = ANY($1::text[]) OR old_code = ANY($1::text[])`, [codes])).rows
  const all = [...new Set([...codes, ...merges.flatMap((m) => [m.newCode, m.oldCode])])]
  return {
    communes: (await c.query<PlacementRows['communes'][number]>(`SELECT ${communeColumns} FROM geo_commune WHERE code = ANY($1::text[])`, [all])).rows,
    districts: (await c.query<PlacementRows['districts'][number]>(`SELECT code, province_code AS "provinceCode" FROM geo_district
      WHERE version = '2025-03' AND code = ANY($1::text[])`, [all])).rows,
    merges
  }
}

/** Both geography versions, the old -> new mappings and the targets, on PostgreSQL. */
export class PostgresGeoStore implements GeoStore {
  readonly #pool: Pool

  constructor (pool: Pool) {
    this.#pool = pool
  }

  async replaceGeography (rows: GeographyRows): Promise<{ unchanged: boolean }> {
    return await inTransaction(this.#pool, async (c) => await replaceGeography(c, rows))
  }

  async upsertTargets (targets: readonly StoredTarget[]): Promise<void> {
    if (targets.length === 0) return
    // One statement, rows in id order so two collectors upserting together lock them in one order.
    const sorted = [...targets].sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
    await this.#pool.query(`INSERT INTO target (id, scope, year, body)
      SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[])
      ON CONFLICT (id) DO UPDATE SET scope = excluded.scope, year = excluded.year, body = excluded.body
      WHERE target.scope IS DISTINCT FROM excluded.scope OR target.year IS DISTINCT FROM excluded.year OR target.body IS DISTINCT FROM excluded.body`,
    [sorted.map((t) => t.id), sorted.map((t) => t.scope), sorted.map((t) => t.year), sorted.map((t) => JSON.stringify(t.body))])
  }

  async targets (): Promise<TargetEntry[]> {
    return (await this.#pool.query<{ body: string }>(`SELECT body FROM target ORDER BY id ${C}`)).rows.map((r) => JSON.parse(r.body) as TargetEntry)
  }

  async province (version: GeoVersion, code: string): Promise<{ code: string, name: string } | undefined> {
    return (await this.#pool.query<{ code: string, name: string }>('SELECT code, name FROM geo_province WHERE version = $1 AND code = $2', [version, code])).rows[0]
  }

  async provinces (version: GeoVersion): Promise<GeoArea[]> {
    return (await this.#pool.query<GeoArea>(`SELECT code, name, full_name AS "fullName" FROM geo_province WHERE version = $1 ORDER BY code ${C}`, [version])).rows
  }

  async districts (legacyProvinceCode: string): Promise<GeoArea[]> {
    return (await this.#pool.query<GeoArea>(`SELECT code, name, full_name AS "fullName" FROM geo_district
      WHERE version = '2025-03' AND province_code = $1 ORDER BY code ${C}`, [legacyProvinceCode])).rows
  }

  async communes (version: GeoVersion, provinceCode: string, districtCode?: string): Promise<GeoCommuneArea[]> {
    return (await this.#pool.query<GeoCommuneArea>(`SELECT code, name, full_name AS "fullName", district_code AS "districtCode" FROM geo_commune
      WHERE version = $1 AND province_code = $2${districtCode === undefined ? '' : ' AND district_code = $3'} ORDER BY code ${C}`,
    [version, provinceCode, ...(districtCode === undefined ? [] : [districtCode])])).rows
  }

  async commune (version: GeoVersion, code: string): Promise<GeoArea | undefined> {
    return (await this.#pool.query<GeoArea>('SELECT code, name, full_name AS "fullName" FROM geo_commune WHERE version = $1 AND code = $2', [version, code])).rows[0]
  }

  async communeSources (communeCode: string): Promise<CommuneSource[]> {
    // An old id that is not a 2025-03 commune (an island district merged whole, or a renumbered commune) is listed with what is known.
    return (await this.#pool.query<CommuneSource>(`SELECT m.old_code AS code, coalesce(c.name, d.name) AS name,
        coalesce(c.district_code, d.code) AS "districtCode", coalesce(c.province_code, d.province_code) AS "provinceCode", m.type
      FROM geo_commune_merge m
      LEFT JOIN geo_commune c ON c.version = '2025-03' AND c.code = m.old_code
      LEFT JOIN geo_district d ON d.version = '2025-03' AND d.code = m.old_code
      WHERE m.new_code = $1 ORDER BY m.old_code ${C}`, [communeCode])).rows
  }

  async areas (level: Level, province: string | null): Promise<GeoArea[]> {
    const s = AREA_LEVELS[level]
    const byProvince = province === null ? '' : s.table === 'geo_province' ? ' AND code = $2' : ' AND province_code = $2'
    return (await this.#pool.query<GeoArea>(`SELECT code, name, full_name AS "fullName" FROM ${s.table} WHERE version = $1${byProvince} ORDER BY code ${C}`,
      province === null ? [s.version] : [s.version, province])).rows
  }

  async provinceOfArea (level: Level, code: string): Promise<string | undefined> {
    // Codes are unique within a geography version.
    const s = AREA_LEVELS[level]
    const column = s.table === 'geo_province' ? 'code' : 'province_code'
    return (await this.#pool.query<{ p: string }>(`SELECT ${column} AS p FROM ${s.table} WHERE version = $1 AND code = $2`, [s.version, code])).rows[0]?.p
  }

  async provinceSuccessor (legacyProvinceCode: string): Promise<{ code: string, name: string } | undefined> {
    return (await this.#pool.query<{ code: string, name: string }>(`SELECT p.code, p.name FROM geo_province_merge m
      JOIN geo_province p ON p.version = '2025-07' AND p.code = m.new_code WHERE m.old_code = $1
      ORDER BY m.new_code ${C} LIMIT 1`, [legacyProvinceCode])).rows[0]
  }

  async provincePredecessors (provinceCode: string): Promise<string[]> {
    return (await this.#pool.query<{ c: string }>(`SELECT old_code AS c FROM geo_province_merge WHERE new_code = $1 ORDER BY old_code ${C}`, [provinceCode])).rows.map((r) => r.c)
  }

  async placementRows (codes: readonly string[] | null): Promise<PlacementRows> {
    return await inTransaction(this.#pool, async (c) => await placementRows(c, codes), { snapshot: true })
  }
}
