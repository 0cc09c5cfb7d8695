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
