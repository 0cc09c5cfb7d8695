import type { Db } from '../storage/db.js'
import { selectAgencyScopes } from '../storage/agency-store.js'
import { currentTargetEntries, unitTypeOf } from '../targets/targets.js'
import { sqliteGeo } from '../storage/sqlite/geo.js'
import type { TargetContext } from './figures.js'
import type { ReportRules } from './rules.js'
import type { Period } from '../../shared/period.js'
import { linkLimitedLowerBounds } from './link-limited.js'

/**
 * What every report needs besides the rollups: targets, each agency's category, the 2025
 * unit type of its commune (phường / xã / đặc khu, for targets scoped to urban areas) and its
 * high-tech zone (for targets set for high-tech zones), and province names.
 */
export function targetContext (db: Db, year: number, rules: ReportRules, period?: Period): TargetContext {
  const agencies = new Map(selectAgencyScopes(db).map(([id, category, full, name, zone]) => [id, { category, zone, unitType: full === null || name === null ? null : unitTypeOf(full, name) }]))
  const names = new Map((db.prepare("SELECT code, name FROM geo_province WHERE version = '2025-03'").raw(true).all() as Array<[string, string]>))
  return {
    entries: currentTargetEntries(sqliteGeo.targets(db)),
    year,
    categoryOf: (id) => agencies.get(id)?.category,
    unitTypeOf: (id) => agencies.get(id)?.unitType ?? null,
    highTechZoneOf: (id) => agencies.get(id)?.zone ?? null,
    provinceName: (code) => names.get(code),
    rules,
    ...(period === undefined ? {} : { lowerBounds: linkLimitedLowerBounds(db, period) })
  }
}
