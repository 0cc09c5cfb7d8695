import type Database from 'better-sqlite3'
import type { Db } from '../db.js'
import { decode, encode } from '../../aggregation/float-blob.js'
import { MONTH_COUNTER_COLUMNS, monthCountersOf, type StoredMonthCounters } from '../rows.js'
import { applyRollupGroup, groupRollupInputs, monthRowKey, type RollupGroup } from '../../aggregation/rollup-apply.js'
import { rollupMonthsChanged as monthsChanged, rollupsReplaced } from './rollup-changes.js'
import { ROLLUP_VERSION, type MonthCounters, type RollupInput } from '../../aggregation/rollup.js'

interface MonthState extends MonthCounters {
  id: number
  dirty: boolean
}

/**
 * Keeps rollup_agent_hour and rollup_agent_month (migration 020) up to date, batch by batch,
 * inside the caller's transaction: the result store's commit and the rebuild use this same code,
 * so an incremental rollup and a rebuilt one are the same by construction (a test checks it).
 *
 * Per batch: results are grouped by agent × hour × band; each group's valid tests are added to
 * the hour row, the hour's representative sample (median of its tests, per direction) is
 * recomputed, and the month row's sorted sample arrays swap the old representative value for
 * the new one. Month rows touched by several groups are written once.
 */
export class RollupWriter {
  readonly #db: Db
  readonly #monthUpsert: Database.Statement
  readonly #monthById: Database.Statement
  readonly #monthUpdate: Database.Statement
  readonly #hourGet: Database.Statement
  readonly #hourPut: Database.Statement

  constructor (db: Db) {
    this.#db = db
    this.#monthUpsert = db.prepare(`INSERT INTO rollup_agent_month (agent_id, month, band, connection_class, isp, agency_id,
        commune_code, province_code, legacy_district_code, legacy_province_code)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (agent_id, month, band, connection_class, isp, agency_id, commune_code, province_code, legacy_district_code, legacy_province_code)
      DO UPDATE SET n_results = n_results RETURNING id`).pluck()
    this.#monthById = db.prepare(`SELECT ${MONTH_COUNTER_COLUMNS} FROM rollup_agent_month WHERE id = ?`)
    this.#monthUpdate = db.prepare(`UPDATE rollup_agent_month SET n_results = ?, n_speed = ?, n_valid = ?, n_skip = ?,
      sum_test_down = ?, n_test_up = ?, sum_test_up = ?, n_test_idle = ?, sum_test_idle = ?, n_test_down_ge30 = ?,
      rep_down = ?, rep_up = ?, rep_idle = ? WHERE id = ?`)
    this.#hourGet = db.prepare('SELECT month_id AS monthId, tests FROM rollup_agent_hour WHERE agent_id = ? AND hour_start = ? AND band = ?')
    this.#hourPut = db.prepare(`INSERT INTO rollup_agent_hour (agent_id, hour_start, band, month_id, tests) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (agent_id, hour_start, band) DO UPDATE SET tests = excluded.tests`)
  }

  /** Must run inside a transaction (ingest's, or the rebuild's). */
  apply (rows: readonly RollupInput[]): void {
    const groups = groupRollupInputs(rows)
    const months = new Map<number, MonthState>()
    const monthIds = new Map<string, number>()
    for (const g of groups) this.#applyGroup(g, months, monthIds)
    // Reports cache decoded month rows; the months this batch touched are stale from now on
    // (and if the transaction rolls back, dropping them cost only a re-read).
    monthsChanged(this.#db, new Set(groups.map((g) => g.month)))
    for (const m of months.values()) {
      if (!m.dirty) continue
      this.#monthUpdate.run(m.nResults, m.nSpeed, m.nValid, m.nSkip, m.sumTestDown, m.nTestUp, m.sumTestUp, m.nTestIdle,
        m.sumTestIdle, m.nTestDownGe30, encode(m.repDown), encode(m.repUp), encode(m.repIdle), m.id)
    }
  }

  #month (id: number, cache: Map<number, MonthState>): MonthState {
    let m = cache.get(id)
    if (m === undefined) {
      m = { id, ...monthCountersOf(this.#monthById.get(id) as StoredMonthCounters), dirty: false }
      cache.set(id, m)
    }
    return m
  }

  #applyGroup (g: RollupGroup, cache: Map<number, MonthState>, monthIds: Map<string, number>): void {
    const hourRow = this.#hourGet.get(g.agentId, g.hour, g.band) as { monthId: number, tests: Buffer } | undefined
    // The hour row remembers which month row holds its sample, so a late test lands beside the
    // earlier ones even if the agency's attributes changed since.
    let monthId = hourRow?.monthId
    if (monthId === undefined) {
      const attrs = monthRowKey(g)
      const key = attrs.join('\u0000')
      monthId = monthIds.get(key)
      if (monthId === undefined) {
        monthId = this.#monthUpsert.get(...attrs) as number
        monthIds.set(key, monthId)
      }
    }
    const m = this.#month(monthId, cache)
    m.dirty = true
    const tests = applyRollupGroup(m, hourRow === undefined ? null : decode(hourRow.tests), g.rows)
    if (tests !== null) this.#hourPut.run(g.agentId, g.hour, g.band, monthId, encode(tests))
  }
}

/** SELECT list that turns result rows into RollupInput; shared by the rebuild and the bench. */
export const RESULT_ROLLUP_COLUMNS = `agent_id AS agentId, kind, valid, measured_at_corr AS measuredAtCorr, clock_flags AS clockFlags,
  download_mbps AS downloadMbps, upload_mbps AS uploadMbps, idle_latency_ms AS idleLatencyMs, agency_id AS agencyId,
  connection_class AS connectionClass, isp, commune_code AS communeCode, province_code AS provinceCode,
  legacy_district_code AS legacyDistrictCode, legacy_province_code AS legacyProvinceCode`

/**
 * Rebuilds both rollup tables from the result table in batches of `batch` rows, all in one
 * transaction so a report never sees a half-built rollup. Ordered by agent so each batch
 * touches few month rows.
 */
export function rebuildRollups (db: Db, { batch = 20_000, now = Date.now() } = {}): { rows: number } {
  const writer = new RollupWriter(db)
  let rows = 0
  db.transaction(() => {
    db.prepare('DELETE FROM rollup_agent_hour').run()
    db.prepare('DELETE FROM rollup_agent_month').run()
    // Keyset pages: better-sqlite3 cannot write while an iterator over the same connection is open.
    const page = db.prepare(`SELECT ${RESULT_ROLLUP_COLUMNS}, result_id AS resultId FROM result
      WHERE (agent_id, result_id) > (?, ?) ORDER BY agent_id, result_id LIMIT ?`)
    let after: [string, string] = ['', '']
    for (;;) {
      const chunk = page.all(after[0], after[1], batch) as Array<RollupInput & { resultId: string }>
      if (chunk.length === 0) break
      writer.apply(chunk)
      rows += chunk.length
      const last = chunk[chunk.length - 1] as RollupInput & { resultId: string }
      after = [last.agentId, last.resultId]
    }
    markRollupsCurrent(db, now)
    rollupsReplaced(db)
  }).immediate()
  return { rows }
}

/** True when the stored rollups were built by this definition (or the database is new and empty). */
export function rollupsCurrent (db: Db): boolean {
  const v = db.prepare("SELECT version FROM rollup_state WHERE name = 'agent_rollups'").pluck().get() as number | undefined
  return v === ROLLUP_VERSION
}

export function markRollupsCurrent (db: Db, now = Date.now()): void {
  db.prepare(`INSERT INTO rollup_state (name, version, built_at) VALUES ('agent_rollups', ?, ?)
    ON CONFLICT (name) DO UPDATE SET version = excluded.version, built_at = excluded.built_at`).run(ROLLUP_VERSION, now)
}
