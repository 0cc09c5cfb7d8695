import type { Db } from '../db.js'
import type { CommuneSource, GeoArea, GeoCommuneArea, GeographyRows, GeoSeedRow, GeoStore, PlacementRows, StoredTarget, TargetEntry } from '../stores.js'
import { AREA_LEVELS, GEO_VERSIONS, type GeoVersion, type Level } from '../area-levels.js'
import { sameRows } from '../rows.js'

const VERSIONS = `version IN ('${GEO_VERSIONS.join("','")}')`

/**
 * Compares the stored geography with `want` and replaces it when it differs, in one
 * transaction. Comparing rows (about 25,000, a few tens of ms) keeps a collector restart
 * from churning the WAL without a bookkeeping table, and still notices a regenerated seed
 * with the same counts (a renamed commune).
 */
function replaceGeography (db: Db, want: GeographyRows): { unchanged: boolean } {
  const read = (sql: string): unknown[][] => db.prepare(sql).raw(true).all() as unknown[][]
  return db.transaction((): { unchanged: boolean } => {
    const unchanged =
      sameRows(read(`SELECT version, code, name, full_name, name_en FROM geo_province WHERE ${VERSIONS} ORDER BY version, code`), want.provinces) &&
      sameRows(read(`SELECT version, code, province_code, name, full_name, name_en FROM geo_district WHERE ${VERSIONS} ORDER BY version, code`), want.districts) &&
      sameRows(read(`SELECT version, code, province_code, district_code, name, full_name, name_en FROM geo_commune WHERE ${VERSIONS} ORDER BY version, code`), want.communes) &&
      sameRows(read('SELECT new_code, old_code, type FROM geo_commune_merge ORDER BY new_code, old_code'), want.merges) &&
      sameRows(read('SELECT new_code, old_code FROM geo_province_merge ORDER BY new_code, old_code'), want.provinceMerges)
    if (!unchanged) {
      for (const table of ['geo_province', 'geo_district', 'geo_commune']) db.prepare(`DELETE FROM ${table} WHERE ${VERSIONS}`).run()
      db.prepare('DELETE FROM geo_commune_merge').run()
      db.prepare('DELETE FROM geo_province_merge').run()
      const insert = (sql: string, rows: readonly GeoSeedRow[]): void => {
        const stmt = db.prepare(sql)
        for (const r of rows) stmt.run(r)
      }
      insert('INSERT INTO geo_province (version, code, name, full_name, name_en) VALUES (?, ?, ?, ?, ?)', want.provinces)
      insert('INSERT INTO geo_district (version, code, province_code, name, full_name, name_en) VALUES (?, ?, ?, ?, ?, ?)', want.districts)
      insert('INSERT INTO geo_commune (version, code, province_code, district_code, name, full_name, name_en) VALUES (?, ?, ?, ?, ?, ?, ?)', want.communes)
      insert('INSERT INTO geo_commune_merge (new_code, old_code, type) VALUES (?, ?, ?)', want.merges)
      insert('INSERT INTO geo_province_merge (new_code, old_code) VALUES (?, ?)', want.provinceMerges)
    }
    return { unchanged }
  }).immediate()
}

function upsertTargets (db: Db, targets: readonly StoredTarget[]): void {
  const upsert = db.prepare(`INSERT INTO target (id, scope, year, body) VALUES (?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET scope = excluded.scope, year = excluded.year, body = excluded.body
    WHERE target.scope IS NOT excluded.scope OR target.year IS NOT excluded.year OR target.body IS NOT excluded.body`)
  db.transaction(() => {
    for (const t of targets) upsert.run(t.id, t.scope, t.year, JSON.stringify(t.body))
  }).immediate()
}

function targets (db: Db): TargetEntry[] {
  return (db.prepare('SELECT body FROM target ORDER BY id').pluck().all() as string[]).map((b) => JSON.parse(b) as TargetEntry)
}

/** See GeoStore.placementRows; one read transaction so the rows are one snapshot. */
function placementRows (db: Db, codes: readonly string[] | null): PlacementRows {
  return db.transaction((): PlacementRows => {
    if (codes === null) {
      return {
        communes: db.prepare('SELECT version, code, province_code AS provinceCode, district_code AS districtCode FROM geo_commune').all() as PlacementRows['communes'],
        districts: db.prepare("SELECT code, province_code AS provinceCode FROM geo_district WHERE version = '2025-03'").all() as PlacementRows['districts'],
        merges: db.prepare('SELECT new_code AS newCode, old_code AS oldCode, type FROM geo_commune_merge').all() as PlacementRows['merges']
      }
    }
    const list = JSON.stringify(codes)
    const merges = db.prepare(`SELECT new_code AS newCode, old_code AS oldCode, type FROM geo_commune_merge
      WHERE new_code IN (SELECT value FROM json_each(?)) OR old_code IN (SELECT value FROM json_each(?))`).all(list, list) as PlacementRows['merges']
    const all = JSON.stringify([...new Set([...codes, ...merges.flatMap((m) => [m.newCode, m.oldCode])])])
    return {
      communes: db.prepare(`SELECT version, code, province_code AS provinceCode, district_code AS districtCode FROM geo_commune
        WHERE code IN (SELECT value FROM json_each(?))`).all(all) as PlacementRows['communes'],
      districts: db.prepare(`SELECT code, province_code AS provinceCode FROM geo_district
        WHERE version = '2025-03' AND code IN (SELECT value FROM json_each(?))`).all(all) as PlacementRows['districts'],
      merges
    }
  })()
}

export class SqliteGeoStore implements GeoStore {
  constructor (protected readonly db: Db) {}

  async replaceGeography (rows: GeographyRows): Promise<{ unchanged: boolean }> {
    return replaceGeography(this.db, rows)
  }

  async upsertTargets (list: readonly StoredTarget[]): Promise<void> {
    upsertTargets(this.db, list)
  }

  async targets (): Promise<TargetEntry[]> {
    return targets(this.db)
  }

  async province (version: GeoVersion, code: string): Promise<{ code: string, name: string } | undefined> {
    return this.db.prepare('SELECT code, name FROM geo_province WHERE version = ? AND code = ?').get(version, code) as { code: string, name: string } | undefined
  }

  async provinces (version: GeoVersion): Promise<GeoArea[]> {
    return this.db.prepare('SELECT code, name, full_name AS fullName FROM geo_province WHERE version = ? ORDER BY code').all(version) as GeoArea[]
  }

  async districts (legacyProvinceCode: string): Promise<GeoArea[]> {
    return this.db.prepare("SELECT code, name, full_name AS fullName FROM geo_district WHERE version = '2025-03' AND province_code = ? ORDER BY code")
      .all(legacyProvinceCode) as GeoArea[]
  }

  async communes (version: GeoVersion, provinceCode: string, districtCode?: string): Promise<GeoCommuneArea[]> {
    return this.db.prepare(`SELECT code, name, full_name AS fullName, district_code AS districtCode FROM geo_commune
      WHERE version = ? AND province_code = ?${districtCode === undefined ? '' : ' AND district_code = ?'} ORDER BY code`)
      .all(...[version, provinceCode, ...(districtCode === undefined ? [] : [districtCode])]) as GeoCommuneArea[]
  }

  async commune (version: GeoVersion, code: string): Promise<GeoArea | undefined> {
    return this.db.prepare('SELECT code, name, full_name AS fullName FROM geo_commune WHERE version = ? AND code = ?').get(version, code) as GeoArea | undefined
  }

  async communeSources (communeCode: string): Promise<CommuneSource[]> {
    // An old id that is not a 2025-03 commune (an island district merged whole, or a renumbered commune) is listed with what is known.
    return this.db.prepare(`SELECT m.old_code AS code, coalesce(c.name, d.name) AS name, coalesce(c.district_code, d.code) AS districtCode,
        coalesce(c.province_code, d.province_code) AS provinceCode, m.type
      FROM geo_commune_merge m
      LEFT JOIN geo_commune c ON c.version = '2025-03' AND c.code = m.old_code
      LEFT JOIN geo_district d ON d.version = '2025-03' AND d.code = m.old_code
      WHERE m.new_code = ? ORDER BY m.old_code`).all(communeCode) as CommuneSource[]
  }

  async areas (level: Level, province: string | null): Promise<GeoArea[]> {
    const s = AREA_LEVELS[level]
    const byProvince = province === null ? '' : s.table === 'geo_province' ? ' AND code = ?' : ' AND province_code = ?'
    return this.db.prepare(`SELECT code, name, full_name AS fullName FROM ${s.table} WHERE version = ?${byProvince} ORDER BY code`)
      .all(...(province === null ? [s.version] : [s.version, province])) as GeoArea[]
  }

  async provinceOfArea (level: Level, code: string): Promise<string | undefined> {
    // Codes are unique within a geography version.
    const s = AREA_LEVELS[level]
    const column = s.table === 'geo_province' ? 'code' : 'province_code'
    return this.db.prepare(`SELECT ${column} FROM ${s.table} WHERE version = ? AND code = ?`).pluck().get(s.version, code) as string | undefined
  }

  async provinceSuccessor (legacyProvinceCode: string): Promise<{ code: string, name: string } | undefined> {
    return this.db.prepare(`SELECT p.code, p.name FROM geo_province_merge m JOIN geo_province p ON p.version = '2025-07' AND p.code = m.new_code
      WHERE m.old_code = ?`).get(legacyProvinceCode) as { code: string, name: string } | undefined
  }

  async provincePredecessors (provinceCode: string): Promise<string[]> {
    return this.db.prepare('SELECT old_code FROM geo_province_merge WHERE new_code = ? ORDER BY old_code').pluck().all(provinceCode) as string[]
  }

  async placementRows (codes: readonly string[] | null): Promise<PlacementRows> {
    return placementRows(this.db, codes)
  }
}

/**
 * The same operations, synchronous, for SQLite-only callers that run inside one synchronous
 * step: the report fixtures' set-up, and agency creation inside its SQLite transaction until
 * that moves behind the FleetStore.
 */
export const sqliteGeo = { replaceGeography, upsertTargets, placementRows }
