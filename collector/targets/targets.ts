import type { Db } from '../storage/db.js'

/** A target as seeds/targets.json states it, with its source. */
export interface TargetEntry {
  id: string
  scope: 'national' | 'provincial' | string
  region: { version: string, code: string } | null
  year: number
  metric: string
  population: string
  connectionClasses?: string[]
  categories?: string[]
  statistic: string
  thresholdMbps?: number
  requiredShare?: number
  source: { document: string, issuer?: string, date?: string, section?: string, title?: string }
  status: string
  note?: string
}

export interface AppliedTarget {
  id: string
  thresholdMbps: number
  document: string
  year: number
  /** Why this target applies to the line, in words a report can print. */
  why: string
}

export function loadTargetEntries (db: Db): TargetEntry[] {
  return (db.prepare('SELECT body FROM target ORDER BY id').pluck().all() as string[]).map((b) => JSON.parse(b) as TargetEntry)
}

/**
 * The national download target for a line of this connection class and agency category
 * (QĐ 36/QĐ-TTg): the entry whose connectionClasses and categories both include the line's,
 * for the latest target year not after `year`. Null when no national target covers the line.
 */
export function selectNationalTarget (entries: readonly TargetEntry[], line: { connectionClass: string, category: string }, year: number): AppliedTarget | null {
  let best: TargetEntry | null = null
  for (const t of entries) {
    if (t.scope !== 'national' || t.metric !== 'download_mbps' || t.thresholdMbps === undefined) continue
    if (t.connectionClasses !== undefined && !t.connectionClasses.includes(line.connectionClass)) continue
    if (t.categories !== undefined && !t.categories.includes(line.category)) continue
    if (t.year > year) continue
    if (best === null || t.year > best.year) best = t
  }
  if (best === null || best.thresholdMbps === undefined) return null
  return {
    id: best.id,
    thresholdMbps: best.thresholdMbps,
    document: best.source.document,
    year: best.year,
    why: `${line.connectionClass} line of a ${line.category.replace(/_/g, ' ')}: ${best.source.document} (${best.year}) sets ${best.thresholdMbps} Mbps for ${best.population.replace(/_/g, ' ')}`
  }
}

/** A line (one agent's connection) as target selection sees it. */
export interface LineKey {
  connectionClass: string
  category: string
  /** The agency's pre-reform (2025-03) province: provincial plans apply to the former province's area. */
  legacyProvinceCode: string | null
}

export interface SelectedTarget {
  entry: TargetEntry
  /** exact: the entry is for the report year; latest_before: the latest earlier year; horizon: a later goal with no current counterpart. */
  yearRule: 'exact' | 'latest_before' | 'horizon'
}

/** Statistics that are computed per agency line; area-level indicators (empty categories) never are. */
export const PER_LINE_STATISTICS = new Set(['share_of_lines_mean_at_least', 'share_of_lines_mean_above', 'mean_at_least', 'ispeed_province_download_at_least'])

/**
 * Every download target a line is held against in `year` (seeds/targets.json "selection"):
 * national targets and the plans of the line's former province whose classes and categories
 * include the line's. Entries form series by (scope, region, population); per series the entry
 * for `year` is used, else the latest earlier one (a plan for 2023–2025 still states the
 * province's goal in 2026 until a new plan replaces it), else the earliest later one, shown
 * as a horizon (the 2030 goals).
 */
export function targetsForLine (entries: readonly TargetEntry[], line: LineKey, year: number): SelectedTarget[] {
  const series = new Map<string, TargetEntry[]>()
  for (const t of entries) {
    if (t.metric !== 'download_mbps' || typeof t.thresholdMbps !== 'number' || !PER_LINE_STATISTICS.has(t.statistic)) continue
    if (t.categories === undefined || t.categories.length === 0 || !t.categories.includes(line.category)) continue
    if (t.connectionClasses !== undefined && !t.connectionClasses.includes(line.connectionClass)) continue
    if (t.scope === 'provincial') {
      if (t.region === null || t.region.version !== '2025-03' || t.region.code !== line.legacyProvinceCode) continue
    } else if (t.scope !== 'national') continue
    const key = `${t.scope}|${t.region?.code ?? ''}|${t.population}`
    const list = series.get(key) ?? []
    list.push(t)
    series.set(key, list)
  }
  const out: SelectedTarget[] = []
  for (const list of series.values()) {
    const before = list.filter((t) => t.year <= year).sort((a, b) => b.year - a.year)[0]
    if (before !== undefined) { out.push({ entry: before, yearRule: before.year === year ? 'exact' : 'latest_before' }); continue }
    const later = list.sort((a, b) => a.year - b.year)[0]
    if (later !== undefined) out.push({ entry: later, yearRule: 'horizon' })
  }
  return out.sort((a, b) => a.entry.id.localeCompare(b.entry.id))
}

const STATISTIC_WORDS: Record<string, (t: TargetEntry) => string> = {
  share_of_lines_mean_at_least: (t) => `${Math.round((t.requiredShare ?? 0) * 100)} % of lines with a mean download of at least ${t.thresholdMbps ?? '?'} Mbps`,
  share_of_lines_mean_above: (t) => `${Math.round((t.requiredShare ?? 0) * 100)} % of lines with a mean download above ${t.thresholdMbps ?? '?'} Mbps`,
  mean_at_least: (t) => `a mean download across lines of at least ${t.thresholdMbps ?? '?'} Mbps`,
  ispeed_province_download_at_least: (t) => `a province-wide i-Speed download figure of at least ${t.thresholdMbps ?? '?'} Mbps (not a share of lines)`
}

/** Why a target applies, in words a report can print. */
export function targetWhy (t: TargetEntry, line: { connectionClass: string, category: string }, yearRule: SelectedTarget['yearRule'], regionName?: string): string {
  const who = `${line.connectionClass} lines of ${line.category === 'organisation' ? 'organisations' : 'public access points'}`
  const where = t.scope === 'provincial' && t.region !== null ? ` in the former province ${regionName ?? ''} (${t.region.code}, 2025-03 area)`.replace('  ', ' ') : ''
  const words = STATISTIC_WORDS[t.statistic]?.(t) ?? `${t.statistic} ${t.thresholdMbps ?? ''}`
  const when = yearRule === 'exact' ? `for ${t.year}` : yearRule === 'latest_before' ? `for ${t.year} (latest year the document states)` : `as the ${t.year} goal (horizon)`
  return `${who}${where}: ${t.source.document} sets ${words} ${when}, population "${t.population.replace(/_/g, ' ')}"`
}
