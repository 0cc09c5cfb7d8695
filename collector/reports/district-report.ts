import type { Db } from '../storage/db.js'
import { roundOrNull as round } from '../../shared/units.js'
import { countAtLeast } from '../aggregation/float-blob.js'
import type { AppliedTarget } from '../targets/targets.js'
import { areaRows, levelNotes } from './areas-report.js'
import { assignTargets, type AreaFigures, type Coverage, type TargetEvaluation } from './figures.js'
import { parsePeriod, type Period } from './period.js'
import { DEFAULT_REPORT_RULES, describeRules, type ReportRules } from './rules.js'

export const LEGACY_VERSION = '2025-03'

export interface DistrictRow {
  districtCode: string
  districtName: string
  agents: number
  results: number
  validResults: number
  downloadMeanMbps: number | null
  downloadMedianMbps: number | null
  uploadMeanMbps: number | null
  uploadMedianMbps: number | null
  idleLatencyMedianMs: number | null
  /** Share (0..1) of representative samples whose download meets the national target of the line's class and category. */
  targetMetShare: number | null
  targets: AppliedTarget[]
  coverage: Coverage
  figures: AreaFigures
  targetEvaluations: TargetEvaluation[]
}

export interface DistrictReport {
  province: { code: string, name: string, version: string }
  generatedAt: string
  note: string
  period: Period
  rules: Record<string, unknown>
  districts: DistrictRow[]
}

/**
 * Per legacy district of a pre-reform province (issue 2's contract, now read from the rollups):
 * agents, results, mean and median speeds over representative samples, median idle latency,
 * the share of samples meeting each line's current national target, plus the full area row
 * (coverage, publishable cells, every target evaluation). Legacy districts are analysis regions
 * since the 1 July 2025 reform (domain.md §7.4).
 */
export function districtReport (db: Db, provinceCode: string, now = new Date(),
  { period, rules = DEFAULT_REPORT_RULES }: { period?: Period, rules?: ReportRules } = {}): DistrictReport {
  const p = period ?? parsePeriod('all', undefined, 'all', now.getTime())
  const { rows, groups, province, ctx } = areaRows(db, { level: 'legacy_district', province: provinceCode, period: p, rules, now: now.getTime() })
  const districts: DistrictRow[] = []
  for (const row of rows) {
    if (row.area.code === '') continue // the contract lists districts only; the areas report shows the unplaced row
    const g = groups.get(row.area.code)
    if (g === undefined) continue
    // The issue-2 share: samples judged against the national target current for each line.
    let judged = 0
    let met = 0
    const applied = new Map<string, AppliedTarget>()
    for (const t of assignTargets(g.agents, ctx).values()) {
      if (t.selected.entry.scope !== 'national' || t.selected.yearRule === 'horizon') continue
      const e = t.selected.entry
      const thr = e.thresholdMbps as number
      applied.set(e.id, { id: e.id, thresholdMbps: thr, document: e.source.document, year: e.year, why: t.why })
      for (const a of t.agents) {
        judged += a.n
        met += countAtLeast(a.parts, thr)
      }
    }
    districts.push({
      districtCode: row.area.code,
      districtName: row.area.name,
      agents: row.coverage.agentsEnrolled,
      results: row.coverage.speedTests,
      validResults: row.coverage.validTests,
      downloadMeanMbps: round(g.raw.downloadMean),
      downloadMedianMbps: round(g.raw.downloadMedian),
      uploadMeanMbps: round(g.raw.uploadMean),
      uploadMedianMbps: round(g.raw.uploadMedian),
      idleLatencyMedianMs: round(g.raw.idleLatencyMedian),
      targetMetShare: judged === 0 ? null : met / judged,
      targets: [...applied.values()],
      coverage: row.coverage,
      figures: row.figures,
      targetEvaluations: row.targets
    })
  }
  return {
    province: { code: province?.code ?? provinceCode, name: province?.name ?? '', version: LEGACY_VERSION },
    generatedAt: now.toISOString(),
    note: levelNotes('legacy_district').join(' '),
    period: p,
    rules: describeRules(rules),
    districts
  }
}
