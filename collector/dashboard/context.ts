import type { Db } from '../storage/db.js'

export const LEGACY_GEO_VERSION = '2025-03'
export const CURRENT_GEO_VERSION = '2025-07'

export interface ProvinceChoice { code: string, name: string, agencies: number }

export interface DashboardContext {
  departmentName: string
  version: string
  /** Province pickers: pre-reform provinces (analysis regions) and current provinces, those with agencies first. */
  provinces: { legacy: ProvinceChoice[], current: ProvinceChoice[] }
  /** The province with the most agencies, as (version, code), or null before any enrolment. */
  defaultProvince: { version: string, code: string } | null
}

/**
 * What the dashboard needs before it can ask for a report: who runs it and which provinces
 * there are. Read-only; the geography is the seeded one (domain.md §7).
 */
export function dashboardContext (db: Db, opts: { departmentName: string, version: string }): DashboardContext {
  const list = (version: string, column: 'legacy_province_code' | 'province_code'): ProvinceChoice[] =>
    db.prepare(`SELECT p.code, p.name, count(g.id) AS agencies FROM geo_province p
        LEFT JOIN agency g ON g.${column} = p.code
        WHERE p.version = ? GROUP BY p.code, p.name ORDER BY agencies > 0 DESC, p.code`)
      .all(version) as ProvinceChoice[]
  const legacy = list(LEGACY_GEO_VERSION, 'legacy_province_code')
  const current = list(CURRENT_GEO_VERSION, 'province_code')
  const bestLegacy = legacy[0]
  return {
    departmentName: opts.departmentName,
    version: opts.version,
    provinces: { legacy, current },
    defaultProvince: bestLegacy !== undefined && bestLegacy.agencies > 0 ? { version: LEGACY_GEO_VERSION, code: bestLegacy.code } : null
  }
}
