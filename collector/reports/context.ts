import type { Db } from '../storage/db.js'
import { loadTargetEntries, unitTypeOf } from '../targets/targets.js'
import type { TargetContext } from './figures.js'
import type { ReportRules } from './rules.js'
import type { Period } from './period.js'
import { linkLimitedLowerBounds } from './link-limited.js'

/**
 * What every report needs besides the rollups: targets, each agency's category and the 2025
 * unit type of its commune (phường / xã / đặc khu, for targets scoped to urban areas), and
 * province names.
 */
export function targetContext (db: Db, year: number, rules: ReportRules, period?: Period): TargetContext {
  const rows = db.prepare(`SELECT g.id, g.category, c.full_name, c.name FROM agency g
    LEFT JOIN geo_commune c ON c.version = '2025-07' AND c.code = g.commune_code`).raw(true).all() as Array<[string, string, string | null, string | null]>
  const agencies = new Map(rows.map(([id, category, full, name]) => [id, { category, unitType: full === null || name === null ? null : unitTypeOf(full, name) }]))
  const names = new Map((db.prepare("SELECT code, name FROM geo_province WHERE version = '2025-03'").raw(true).all() as Array<[string, string]>))
  return {
    entries: loadTargetEntries(db),
    year,
    categoryOf: (id) => agencies.get(id)?.category,
    unitTypeOf: (id) => agencies.get(id)?.unitType ?? null,
    provinceName: (code) => names.get(code),
    rules,
    ...(period === undefined ? {} : { lowerBounds: linkLimitedLowerBounds(db, period) })
  }
}
