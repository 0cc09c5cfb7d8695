import { insertSorted, medianOf, removeSorted } from './float-blob.js'
import { hourStart, timeBand, type TimeBand } from './time-bands.js'
import { vnMonth } from '../../shared/vn-time.js'
import type { MonthCounters, RollupInput } from './rollup.js'

/**
 * The arithmetic of the report rollups (migration 020), shared by every store's writer
 * (storage/sqlite/rollup-writer.ts, storage/postgres/rollup-writer.ts) so that both compute
 * the same figures by the same float operations in the same order: a store only reads the
 * rows these functions update and writes them back.
 */

/** The results of one agent × clock hour × time band in one batch, in batch order. */
export interface RollupGroup { agentId: string, hour: number, band: TimeBand, month: string, rows: RollupInput[] }

/** Groups a batch by agent × hour × band; groups come in the order of their first row. */
export function groupRollupInputs (rows: readonly RollupInput[]): RollupGroup[] {
  const groups = new Map<string, RollupGroup>()
  for (const r of rows) {
    const band = timeBand(r.measuredAtCorr, r.clockFlags)
    const hour = hourStart(r.measuredAtCorr)
    const key = `${r.agentId}\u0000${hour}\u0000${band}`
    let g = groups.get(key)
    if (g === undefined) {
      g = { agentId: r.agentId, hour, band, month: vnMonth(r.measuredAtCorr), rows: [] }
      groups.set(key, g)
    }
    g.rows.push(r)
  }
  return [...groups.values()]
}

/**
 * The unique key of the month row a new hour's sample goes to: agent, month, band and the
 * attributes stamped on the group's first result (null legacy codes as '').
 */
export function monthRowKey (g: RollupGroup): [agentId: string, month: string, band: TimeBand, connectionClass: string, isp: string, agencyId: string,
  communeCode: string, provinceCode: string, legacyDistrictCode: string, legacyProvinceCode: string] {
  const first = g.rows[0] as RollupInput
  return [first.agentId, g.month, g.band, first.connectionClass, first.isp, first.agencyId, first.communeCode, first.provinceCode,
    first.legacyDistrictCode ?? '', first.legacyProvinceCode ?? '']
}

const num = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

/**
 * Adds a group's results to its month row's counters and, when it has valid speed tests, to
 * the hour's tests (float64 triples down, up, idle; NaN = missing), moving the hour's
 * representative sample (the median of its tests per direction) in the month's sorted sample
 * arrays. Returns the hour's new tests, or null when the group added none (the hour row stays).
 */
export function applyRollupGroup (m: MonthCounters, hourTests: Float64Array | null, rows: readonly RollupInput[]): Float64Array | null {
  const tests = hourTests === null ? [] : Array.from(hourTests)
  const before = representative(tests)
  let added = 0
  for (const r of rows) {
    m.nResults++
    if (r.kind === 'skip') m.nSkip++
    if (r.kind !== 'speed') continue
    m.nSpeed++
    const down = num(r.downloadMbps)
    if (r.valid !== 1 || down === null) continue
    const up = num(r.uploadMbps)
    const idle = num(r.idleLatencyMs)
    m.nValid++
    m.sumTestDown += down
    if (down >= 30) m.nTestDownGe30++
    if (up !== null) { m.nTestUp++; m.sumTestUp += up }
    if (idle !== null) { m.nTestIdle++; m.sumTestIdle += idle }
    tests.push(down, up ?? NaN, idle ?? NaN)
    added++
  }
  if (added === 0) return null
  const after = representative(tests)
  m.repDown = swap(m.repDown, before.down, after.down)
  m.repUp = swap(m.repUp, before.up, after.up)
  m.repIdle = swap(m.repIdle, before.idle, after.idle)
  return Float64Array.from(tests)
}

/** The hour's representative sample: the median of its tests, per direction (missing values skipped). */
function representative (triples: readonly number[]): { down: number | null, up: number | null, idle: number | null } {
  const down: number[] = []
  const up: number[] = []
  const idle: number[] = []
  for (let i = 0; i + 2 < triples.length; i += 3) {
    const d = triples[i] as number
    const u = triples[i + 1] as number
    const l = triples[i + 2] as number
    if (!Number.isNaN(d)) down.push(d)
    if (!Number.isNaN(u)) up.push(u)
    if (!Number.isNaN(l)) idle.push(l)
  }
  return { down: medianOf(down), up: medianOf(up), idle: medianOf(idle) }
}

function swap (sorted: Float64Array, before: number | null, after: number | null): Float64Array {
  if (before === after) return sorted
  let out = sorted
  if (before !== null) out = removeSorted(out, before)
  if (after !== null) out = insertSorted(out, after)
  return out
}
