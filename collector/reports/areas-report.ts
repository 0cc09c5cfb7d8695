import type { ReportStores, MonthRow, RollupFilter } from './rollup-reader.js'
import { TocdoError } from '../../shared/errors.js'
import { computeGroup, evaluateTargets, type TargetContext, type AreaFigures, type Coverage, type GroupResult, type TargetEvaluation } from './figures.js'
import { readMonthRows } from './rollup-reader.js'
import { describeRules, type ReportRules } from './rules.js'
import { periodYear, type Period } from '../../shared/period.js'
import { targetContext } from './context.js'
import type { AreasReport } from './schemas.js'
import { AREA_LEVELS, LEGACY_GEO_VERSION, type GeoVersion, type Level } from '../storage/area-levels.js'

export type { Level }
export type Split = 'connection_class' | 'isp' | 'time_band'
export const SPLITS: readonly Split[] = ['connection_class', 'isp', 'time_band']

export interface AreaRef { level: Level, version: GeoVersion, code: string, name: string, fullName: string }

export interface AreaRow {
  area: AreaRef
  split: null | { by: Split, value: string }
  coverage: Coverage
  figures: AreaFigures
  targets: TargetEvaluation[]
}

/** The province (in the level's geography) or a 404 naming the field and the fix. */
export async function requireProvince (stores: ReportStores, version: GeoVersion, code: string): Promise<{ code: string, name: string, version: string }> {
  const p = await stores.geo.province(version, code)
  if (p === undefined) {
    const hint = version === LEGACY_GEO_VERSION ? 'a pre-reform (2025-03) code such as 62 (Kon Tum) or 27 (Bắc Ninh)' : 'a current (2025-07) code such as 51 (Quảng Ngãi) or 24 (Bắc Ninh)'
    throw new TocdoError('TOCDO_ERR_UNKNOWN_AREA', `province=${code} is not a ${version} province code; use ${hint}`, { details: { field: 'province' } })
  }
  return { ...p, version }
}

const splitValue = (r: MonthRow, split: Split): string | null =>
  split === 'connection_class' ? r.connectionClass : split === 'isp' ? r.isp : r.band === 'unknown' ? null : r.band

export interface AreaQuery {
  level: Level
  province?: string | undefined
  code?: string | undefined
  period: Period
  split?: Split | undefined
  rules: ReportRules
  now?: number
}

/** Area rows of one level, each followed by its split rows; the engine behind every report endpoint. */
export async function areaRows (stores: ReportStores, q: AreaQuery): Promise<{ rows: AreaRow[], groups: Map<string, GroupResult>, province: Awaited<ReturnType<typeof requireProvince>> | null, ctx: TargetContext }> {
  const spec = AREA_LEVELS[q.level]
  if (spec.provinceRequired && q.province === undefined) {
    throw new TocdoError('TOCDO_ERR_VALIDATION', `level=${q.level} needs province=<${spec.version} province code>`, { details: { field: 'province' } })
  }
  const province = q.province === undefined ? null : await requireProvince(stores, spec.version, q.province)
  const filter: RollupFilter = province === null ? { column: null } : { column: spec.provinceColumn, code: province.code }
  const monthRows = await readMonthRows(stores.rollups, filter, q.period, q.now)
  const ctx = await targetContext(stores, periodYear(q.period, q.now), q.rules, q.period)

  // Enrolled: active agents whose agency sits in the area now.
  const enrolledRows = await stores.rollups.enrolledByArea(q.level, province?.code ?? null)
  const enrolled = (area: string, split: Split | null, value: string | null): number => enrolledRows
    .filter((e) => e.area === area && (split === 'connection_class' ? e.connectionClass === value : split === 'isp' ? e.isp === value : true))
    .reduce((s, e) => s + e.agents, 0)

  const byArea = new Map<string, MonthRow[]>()
  for (const r of monthRows) {
    const k = r[spec.key]
    const l = byArea.get(k)
    if (l === undefined) byArea.set(k, [r])
    else l.push(r)
  }
  let areas = await stores.geo.areas(q.level, province?.code ?? null)
  if (q.code !== undefined) {
    areas = areas.filter((a) => a.code === q.code)
    if (areas.length === 0) throw new TocdoError('TOCDO_ERR_UNKNOWN_AREA', `code=${q.code} is not a ${q.level.replace('_', ' ')} ${province === null ? '' : `of province ${province.code} `}in ${spec.version}`, { details: { field: 'code' } })
  } else if (!spec.provinceRequired) {
    // Whole-country levels list only the provinces the fleet reaches.
    const live = new Set([...byArea.keys(), ...enrolledRows.map((e) => e.area)])
    areas = areas.filter((a) => live.has(a.code))
  }
  const list = areas.map((a) => ({ ...a, key: a.code }))
  // Agents whose legacy district could not be derived (ambiguous placement) still count for the province.
  if (q.level === 'legacy_district' && q.code === undefined && (byArea.has('') || enrolledRows.some((e) => e.area === ''))) {
    list.push({ code: '', name: 'Chưa xác định huyện cũ', fullName: 'Chưa xác định huyện cũ (xã mới hợp thành từ nhiều huyện cũ)', key: '' })
  }

  const rows: AreaRow[] = []
  const groups = new Map<string, GroupResult>()
  for (const a of list) {
    const areaRef: AreaRef = { level: q.level, version: spec.version, code: a.code, name: a.name, fullName: a.fullName }
    const own = byArea.get(a.key) ?? []
    const g = computeGroup(own, q.rules)
    groups.set(a.key, g)
    rows.push({ area: areaRef, split: null, coverage: { agentsEnrolled: enrolled(a.key, null, null), ...g.coverage }, figures: g.figures, targets: evaluateTargets(g.agents, ctx) })
    if (q.split === undefined) continue
    const bySplit = new Map<string, MonthRow[]>()
    for (const r of own) {
      const v = splitValue(r, q.split)
      if (v === null) continue
      const l = bySplit.get(v)
      if (l === undefined) bySplit.set(v, [r])
      else l.push(r)
    }
    if (q.split !== 'time_band') {
      for (const e of enrolledRows) {
        const v = q.split === 'connection_class' ? e.connectionClass : e.isp
        if (e.area === a.key && !bySplit.has(v)) bySplit.set(v, [])
      }
    }
    for (const [value, part] of [...bySplit.entries()].sort(([x], [y]) => x.localeCompare(y))) {
      const sg = computeGroup(part, q.rules)
      rows.push({
        area: areaRef,
        split: { by: q.split, value },
        coverage: { agentsEnrolled: enrolled(a.key, q.split === 'time_band' ? null : q.split, value), ...sg.coverage },
        figures: sg.figures,
        targets: evaluateTargets(sg.agents, ctx)
      })
    }
  }
  return { rows, groups, province, ctx }
}

export async function areasReport (stores: ReportStores, q: AreaQuery): Promise<AreasReport & { rows: AreaRow[] }> {
  const { rows, province } = await areaRows(stores, q)
  return {
    report: 'areas',
    level: q.level,
    version: AREA_LEVELS[q.level].version,
    province,
    period: q.period,
    split: q.split ?? null,
    generatedAt: new Date(q.now ?? Date.now()).toISOString(),
    rules: describeRules(q.rules),
    notes: levelNotes(q.level),
    rows
  }
}

export function levelNotes (level: Level): string[] {
  const notes = [
    'Figures use valid speed results only; repeated tests by one agent within one clock hour count once (their median). Mean and median are reported separately, never one under the other\'s name.',
    'Below the publication minimum a cell has value null, status insufficient_data, and shows n.'
  ]
  if (AREA_LEVELS[level].legacy) {
    notes.unshift('Legacy districts and provinces (2025-03) are analysis regions since the 1 July 2025 reform ("huyện cũ – vùng phân tích"), not administrative units. Each agent is placed in one legacy district through the old→new commune mapping; no area apportioning.')
  }
  return notes
}
