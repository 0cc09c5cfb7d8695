import type { ReportStores } from './rollup-reader.js'
import { loadTargetEntries, unitTypeOf } from '../targets/targets.js'
import { LEGACY_GEO_VERSION } from '../storage/area-levels.js'
import { periodBounds } from '../../shared/period.js'
import type { TargetContext } from './figures.js'
import type { ReportRules } from './rules.js'
import type { Period } from '../../shared/period.js'
import { linkLimitedLowerBounds } from './link-limited.js'

/**
 * What every report needs besides the rollups: targets, each agency's category, the 2025
 * unit type of its commune (phường / xã / đặc khu, for targets scoped to urban areas) and its
 * high-tech zone (for targets set for high-tech zones), and province names.
 */
export async function targetContext (stores: ReportStores, year: number, rules: ReportRules, period?: Period): Promise<TargetContext> {
  const rows = await stores.rollups.contextRows(period === undefined ? undefined : periodBounds(period))
  const agencies = new Map(rows.agencyScopes.map(([id, category, full, name, zone]) => [id, { category, zone, unitType: full === null || name === null ? null : unitTypeOf(full, name) }]))
  const names = new Map((await stores.geo.provinces(LEGACY_GEO_VERSION)).map((p) => [p.code, p.name]))
  return {
    entries: await loadTargetEntries(stores.geo),
    year,
    categoryOf: (id) => agencies.get(id)?.category,
    unitTypeOf: (id) => agencies.get(id)?.unitType ?? null,
    highTechZoneOf: (id) => agencies.get(id)?.zone ?? null,
    provinceName: (code) => names.get(code),
    rules,
    ...(period === undefined ? {} : { lowerBounds: linkLimitedLowerBounds(rows.linkLimited) })
  }
}
