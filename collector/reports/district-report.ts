import type { ReportStores } from './rollup-reader.js'
import { LEGACY_GEO_VERSION } from '../storage/area-levels.js'
import { roundOrNull as round } from '../../shared/units.js'
import { areaRows, levelNotes } from './areas-report.js'
import type { AreaFigures, Cell, Coverage, LeftOut, TargetEvaluation } from './figures.js'
import { parsePeriod, type Period } from '../../shared/period.js'
import { DEFAULT_REPORT_RULES, describeRules, type DescribedRules, type ReportRules } from './rules.js'

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
  /**
   * One entry per national target current for the district's lines (the mixed share of earlier
   * versions is gone: 40, 100, 200 and 1,000 Mbps targets are never pooled into one number).
   */
  targets: DistrictTargetShare[]
  coverage: Coverage
  figures: AreaFigures
  targetEvaluations: TargetEvaluation[]
}

/** A national target's share figures in one district, each with its n and publication minimum. */
export interface DistrictTargetShare {
  id: string
  document: string
  year: number
  statistic: string
  thresholdMbps: number
  requiredShare: number | null
  why: string
  /** Lines in the target's scope whose mean meets the threshold (basis agents). */
  shareOfLinesMeeting: Cell
  /** Representative samples of those lines meeting the threshold. */
  shareOfSamplesMeeting: Cell
  leftOut: LeftOut
}

export interface DistrictReport {
  province: { code: string, name: string, version: string }
  generatedAt: string
  note: string
  period: Period
  rules: DescribedRules
  districts: DistrictRow[]
}

/**
 * Per legacy district of a pre-reform province (issue 2's contract, now read from the rollups):
 * agents, results, mean and median speeds over representative samples, median idle latency,
 * per current national target the shares of lines and samples meeting it (each with n and its
 * minimum, and the lines its scope leaves out), plus the full area row
 * (coverage, publishable cells, every target evaluation). Legacy districts are analysis regions
 * since the 1 July 2025 reform (domain.md §7.4).
 */
export async function districtReport (stores: ReportStores, provinceCode: string, now = new Date(),
  { period, rules = DEFAULT_REPORT_RULES }: { period?: Period, rules?: ReportRules } = {}): Promise<DistrictReport> {
  const p = period ?? parsePeriod('all', undefined, 'all', now.getTime())
  const { rows, groups, province } = await areaRows(stores, { level: 'legacy_district', province: provinceCode, period: p, rules, now: now.getTime() })
  const districts: DistrictRow[] = []
  for (const row of rows) {
    if (row.area.code === '') continue // the contract lists districts only; the areas report shows the unplaced row
    const g = groups.get(row.area.code)
    if (g === undefined) continue
    const targets = row.targets.filter((t) => t.scope === 'national' && !t.horizon).map((t: TargetEvaluation): DistrictTargetShare => ({
      id: t.targetId,
      document: t.document,
      year: t.year,
      statistic: t.statistic,
      thresholdMbps: t.thresholdMbps,
      requiredShare: t.requiredShare,
      why: t.why,
      shareOfLinesMeeting: t.shareOfAgentsMeeting,
      shareOfSamplesMeeting: t.shareOfSamplesMeeting,
      leftOut: t.leftOut
    }))
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
      targets,
      coverage: row.coverage,
      figures: row.figures,
      targetEvaluations: row.targets
    })
  }
  return {
    province: { code: province?.code ?? provinceCode, name: province?.name ?? '', version: LEGACY_GEO_VERSION },
    generatedAt: now.toISOString(),
    note: levelNotes('legacy_district').join(' '),
    period: p,
    rules: describeRules(rules),
    districts
  }
}
