import type { GeoStore, TargetEntry } from '../storage/stores.js'
import { LEGACY_GEO_VERSION } from '../storage/area-levels.js'

export type { TargetEntry }

/**
 * Earlier names of statistics. A deployment's own target rows may still carry them; they mean
 * what the current name means (an area's mean download; each line's minimum download).
 */
const STATISTIC_ALIASES: Readonly<Record<string, string>> = { mean_at_least: 'ispeed_area_mean_at_least', ispeed_province_download_at_least: 'ispeed_area_mean_at_least', each_unit_min_at_least: 'share_of_lines_min_at_least' }

/** Stored entries with the current names of their statistics. */
export function currentTargetEntries (stored: readonly TargetEntry[]): TargetEntry[] {
  return stored.map((t) => {
    const alias = STATISTIC_ALIASES[t.statistic]
    return alias === undefined ? t : { ...t, statistic: alias }
  })
}

/** Every stored target and regulation rule, by id, with the current names of their statistics. */
export async function loadTargetEntries (geo: Pick<GeoStore, 'targets'>): Promise<TargetEntry[]> {
  return currentTargetEntries(await geo.targets())
}

/** A line (one agent's connection) as target selection sees it. */
export interface LineKey {
  connectionClass: string
  category: string
  /** The agency's pre-reform (2025-03) province: provincial plans apply to the former province's area. */
  legacyProvinceCode: string | null
  /** The 2025-07 unit type of the agency's commune: 'phường', 'xã' or 'đặc khu'; null when unknown. */
  unitType: string | null
  /** The high-tech zone the agency is in; null or absent when in none. */
  highTechZone?: string | null
}

/** Why a line relevant to a target is not counted against it. */
export interface OutOfScope {
  /** category: the agency's category is not the target's population; unit_type: its commune's 2025 unit type is not one the target names; high_tech_zone: the agency is in no high-tech zone. */
  reason: 'category' | 'unit_type' | 'high_tech_zone'
  /** The line's own value that fell outside (its category, its unit type, 'unknown' when not known, or 'none' for no zone). */
  value: string
}

export interface SelectedTarget {
  entry: TargetEntry
  /** exact: the entry is for the report year; latest_before: the latest earlier year; horizon: a later goal with no current counterpart. */
  yearRule: 'exact' | 'latest_before' | 'horizon'
  /** null when the line is in the target's scope. */
  outOfScope: OutOfScope | null
}

/** Per-line statistics and the i-Speed area average; area indicators (empty categories) are never judged per line. */
export const PER_LINE_STATISTICS = new Set(['share_of_lines_mean_at_least', 'share_of_lines_mean_above', 'share_of_lines_min_at_least', 'ispeed_area_mean_at_least'])

/** The 2025 unit type ('phường', 'xã', 'đặc khu') of a commune from its full and short names. */
export function unitTypeOf (fullName: string, name: string): string | null {
  if (!fullName.endsWith(name) || fullName.length === name.length) return null
  return fullName.slice(0, fullName.length - name.length).trim().toLocaleLowerCase('vi') || null
}

/** Whether a line is in a target's scope (seeds/targets.json "selection"), and if not, why. */
export function scopeCheck (t: TargetEntry, line: Pick<LineKey, 'category' | 'unitType' | 'highTechZone'>): OutOfScope | null {
  if (!(t.categories ?? []).includes(line.category)) return { reason: 'category', value: line.category }
  if (t.inHighTechZone === true && (line.highTechZone ?? null) === null) return { reason: 'high_tech_zone', value: 'none' }
  if (t.unitTypes !== undefined && (line.unitType === null || !t.unitTypes.includes(line.unitType))) return { reason: 'unit_type', value: line.unitType ?? 'unknown' }
  return null
}

/**
 * Every download target relevant to a line in `year` (seeds/targets.json "selection"):
 * national targets and the plans of the line's former province whose connection classes
 * include the line's, each with whether the line is in its scope (category, 2025 unit type).
 * Entries form series by (scope, region, population); per series the entry for `year` is used,
 * else the latest earlier one (a plan for 2023–2025 still states the province's goal in 2026
 * until a new plan replaces it), else the earliest later one, shown as a horizon (the 2030 goals).
 */
export function targetsForLine (entries: readonly TargetEntry[], line: LineKey, year: number): SelectedTarget[] {
  const series = new Map<string, TargetEntry[]>()
  for (const t of entries) {
    if (t.metric !== 'download_mbps' || typeof t.thresholdMbps !== 'number' || !PER_LINE_STATISTICS.has(t.statistic)) continue
    if (t.categories === undefined || t.categories.length === 0) continue
    if (t.connectionClasses !== undefined && !t.connectionClasses.includes(line.connectionClass)) continue
    if (t.scope === 'provincial') {
      if (t.region === null || t.region.version !== LEGACY_GEO_VERSION || t.region.code !== line.legacyProvinceCode) continue
    } else if (t.scope !== 'national') continue
    const key = `${t.scope}|${t.region?.code ?? ''}|${t.population}`
    const list = series.get(key) ?? []
    list.push(t)
    series.set(key, list)
  }
  const out: SelectedTarget[] = []
  for (const list of series.values()) {
    const before = list.filter((t) => t.year <= year).sort((a, b) => b.year - a.year)[0]
    const chosen = before ?? list.sort((a, b) => a.year - b.year)[0]
    if (chosen === undefined) continue
    out.push({ entry: chosen, yearRule: before === undefined ? 'horizon' : before.year === year ? 'exact' : 'latest_before', outOfScope: scopeCheck(chosen, line) })
  }
  return out.sort((a, b) => a.entry.id.localeCompare(b.entry.id))
}

const CATEGORY_WORDS: Record<string, string> = { organisation: 'organisations', public_access_point: 'public access points', household: 'households', high_tech_zone: 'high-tech zones' }

const STATISTIC_WORDS: Record<string, (t: TargetEntry) => string> = {
  share_of_lines_mean_at_least: (t) => `${Math.round((t.requiredShare ?? 0) * 100)} % of lines with a mean download of at least ${t.thresholdMbps ?? '?'} Mbps`,
  share_of_lines_mean_above: (t) => `${Math.round((t.requiredShare ?? 0) * 100)} % of lines with a mean download above ${t.thresholdMbps ?? '?'} Mbps`,
  share_of_lines_min_at_least: (t) => `${Math.round((t.requiredShare ?? 0) * 100)} % of lines with a minimum download (lowest representative sample) of at least ${t.thresholdMbps ?? '?'} Mbps`,
  ispeed_area_mean_at_least: (t) => `an area average download (i-Speed: mean of representative samples of ${(t.connectionClasses ?? []).join('/')} lines) of at least ${t.thresholdMbps ?? '?'} Mbps`
}

/** The target's scope in words: who it counts. */
export function scopeWords (t: TargetEntry): string {
  const who = (t.categories ?? []).map((c) => CATEGORY_WORDS[c] ?? c).join(' and ') + (t.inHighTechZone === true ? ' in high-tech zones' : '')
  return t.unitTypes === undefined ? who : `${who} in communes of type ${t.unitTypes.join(' / ')}`
}

/** Why a target applies, in words a report can print. */
export function targetWhy (t: TargetEntry, line: { connectionClass: string }, yearRule: SelectedTarget['yearRule'], regionName?: string): string {
  const where = t.scope === 'provincial' && t.region !== null ? ` in the former province ${regionName ?? ''} (${t.region.code}, 2025-03 area)`.replace('  ', ' ') : ''
  const words = STATISTIC_WORDS[t.statistic]?.(t) ?? `${t.statistic} ${t.thresholdMbps ?? ''}`
  const when = yearRule === 'exact' ? `for ${t.year}` : yearRule === 'latest_before' ? `for ${t.year} (latest year the document states)` : `as the ${t.year} goal (horizon)`
  return `${line.connectionClass} lines of ${scopeWords(t)}${where}: ${t.source.document} sets ${words} ${when}`
}
