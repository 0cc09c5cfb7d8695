import type { Db } from '../storage/db.js'
import { loadTargetEntries } from '../targets/targets.js'
import type { TargetContext } from './figures.js'
import type { ReportRules } from './rules.js'

/** What every report needs besides the rollups: targets, agency categories, province names. */
export function targetContext (db: Db, year: number, rules: ReportRules): TargetContext {
  const categories = new Map((db.prepare('SELECT id, category FROM agency').raw(true).all() as Array<[string, string]>))
  const names = new Map((db.prepare("SELECT code, name FROM geo_province WHERE version = '2025-03'").raw(true).all() as Array<[string, string]>))
  return {
    entries: loadTargetEntries(db),
    year,
    categoryOf: (id) => categories.get(id),
    provinceName: (code) => names.get(code),
    rules
  }
}
