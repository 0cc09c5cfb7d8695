import type { Db } from '../db.js'
import type { SetApartCounts } from '../stores.js'
import { countSetApart } from '../rows.js'
import { CURRENT_GEO_VERSION, LEGACY_GEO_VERSION, provinceLevelOf } from '../area-levels.js'

const WHERE = 'kind = \'speed\' AND (instr(flags, \'wifi\') > 0 OR instr(flags, \'vpn\') > 0)'

/** An agent's set-apart results measured in [fromMs, toMs), or ever when no range is given. */
export function countSetApartForAgent (db: Db, agentId: string, range: { fromMs: number, toMs: number } | null): SetApartCounts {
  const when = range === null ? '' : ' AND measured_at_corr >= ? AND measured_at_corr < ?'
  return countSetApart(db.prepare(`SELECT flags FROM result WHERE agent_id = ? AND ${WHERE}${when}`)
    .raw(true).all(agentId, ...(range === null ? [] : [range.fromMs, range.toMs])) as Array<[string]>)
}

/** A province's set-apart results (current code, or a former province's with `legacy`), through the area indexes of migration 001. */
export function countSetApartForProvince (db: Db, province: string, legacy: boolean, range: { fromMs: number, toMs: number } | null): SetApartCounts {
  const when = range === null ? '' : ' AND measured_at_corr >= ? AND measured_at_corr < ?'
  const column = provinceLevelOf(legacy ? LEGACY_GEO_VERSION : CURRENT_GEO_VERSION).provinceColumn
  return countSetApart(db.prepare(`SELECT flags FROM result WHERE ${column} = ? AND ${WHERE}${when}`)
    .raw(true).all(province, ...(range === null ? [] : [range.fromMs, range.toMs])) as Array<[string]>)
}
