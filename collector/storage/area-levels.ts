/**
 * The one registry of area levels (docs/domain.md §7): which geography each level belongs to,
 * where its codes sit in the agency and rollup rows, which table names its areas and which
 * province column filters it. Every report, the IPv6 report, trends, distributions, agent
 * health and (through context.json) the dashboard read it; the geography store
 * (storage/sqlite/geo.ts) lists each level's areas from it.
 */
export type Level = 'legacy_district' | 'legacy_province' | 'commune' | 'province'
export const LEVELS: readonly Level[] = ['legacy_district', 'legacy_province', 'commune', 'province']

/** The pre-reform geography (analysis regions since 1 July 2025) and the current one. */
export const LEGACY_GEO_VERSION = '2025-03'
export const CURRENT_GEO_VERSION = '2025-07'
export type GeoVersion = typeof LEGACY_GEO_VERSION | typeof CURRENT_GEO_VERSION
export const GEO_VERSIONS: readonly GeoVersion[] = [LEGACY_GEO_VERSION, CURRENT_GEO_VERSION]

/** The area code of each level, as agency and rollup rows carry it once read (camelCase). */
export type AreaKey = 'legacyDistrictCode' | 'legacyProvinceCode' | 'communeCode' | 'provinceCode'
type Column = 'legacy_district_code' | 'legacy_province_code' | 'commune_code' | 'province_code'

export interface AreaLevel {
  level: Level
  version: GeoVersion
  /** Pre-reform analysis region rather than an administrative unit. */
  legacy: boolean
  /** The field holding this level's code in an agency or rollup row. */
  key: AreaKey
  /** The agency and rollup column of that code. */
  column: Column
  /** The column filtered by province=, in the level's geography. */
  provinceColumn: 'legacy_province_code' | 'province_code'
  /** Areas below a province need province= to be listed. */
  provinceRequired: boolean
  table: 'geo_district' | 'geo_commune' | 'geo_province'
}

const level = (l: Level, version: GeoVersion, key: AreaKey, column: Column, table: AreaLevel['table'], provinceRequired: boolean): AreaLevel =>
  ({ level: l, version, legacy: version === LEGACY_GEO_VERSION, key, column, provinceColumn: version === LEGACY_GEO_VERSION ? 'legacy_province_code' : 'province_code', provinceRequired, table })

export const AREA_LEVELS: Readonly<Record<Level, AreaLevel>> = {
  legacy_district: level('legacy_district', LEGACY_GEO_VERSION, 'legacyDistrictCode', 'legacy_district_code', 'geo_district', true),
  legacy_province: level('legacy_province', LEGACY_GEO_VERSION, 'legacyProvinceCode', 'legacy_province_code', 'geo_province', false),
  commune: level('commune', CURRENT_GEO_VERSION, 'communeCode', 'commune_code', 'geo_commune', true),
  province: level('province', CURRENT_GEO_VERSION, 'provinceCode', 'province_code', 'geo_province', false)
}

/** Per geography version, its province level and the level of areas inside a province. */
export const VERSION_LEVELS: Readonly<Record<GeoVersion, { province: Level, area: Level }>> = {
  [LEGACY_GEO_VERSION]: { province: 'legacy_province', area: 'legacy_district' },
  [CURRENT_GEO_VERSION]: { province: 'province', area: 'commune' }
}

/** The province level of a geography version as stored data spells it (a target's region); anything else is current. */
export function provinceLevelOf (version: string): AreaLevel {
  return AREA_LEVELS[VERSION_LEVELS[version === LEGACY_GEO_VERSION ? LEGACY_GEO_VERSION : CURRENT_GEO_VERSION].province]
}

/** The part the dashboard reads (context.json): per geography version, its levels and whether it is the legacy one. */
export function publicAreaLevels (): Record<GeoVersion, { province: Level, area: Level, legacy: boolean }> {
  const entry = (v: GeoVersion): { province: Level, area: Level, legacy: boolean } => ({ ...VERSION_LEVELS[v], legacy: AREA_LEVELS[VERSION_LEVELS[v].province].legacy })
  return { [LEGACY_GEO_VERSION]: entry(LEGACY_GEO_VERSION), [CURRENT_GEO_VERSION]: entry(CURRENT_GEO_VERSION) }
}
