import type { Db } from '../storage/db.js'
import { mean, median } from '../../shared/stats.js'
import { roundOrNull as round } from '../../shared/units.js'
import { loadTargetEntries, selectNationalTarget, type AppliedTarget } from '../targets/targets.js'
import { TocdoError } from '../../shared/errors.js'

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
  /** Share (0..1) of valid results whose download meets the target of the line's class. */
  targetMetShare: number | null
  targets: AppliedTarget[]
}

export interface DistrictReport {
  province: { code: string, name: string, version: string }
  generatedAt: string
  note: string
  districts: DistrictRow[]
}

/**
 * Per legacy district of a pre-reform province: agents, results, mean and median speeds,
 * median idle latency, and the share of results that meet the national target of each
 * line's connection class. Legacy districts are analysis regions since the 1 July 2025
 * reform (domain.md §7.4). Only valid results enter the figures; `results` counts them all.
 */
export function districtReport (db: Db, provinceCode: string, now = new Date()): DistrictReport {
  const province = db.prepare('SELECT code, name FROM geo_province WHERE version = ? AND code = ?')
    .get(LEGACY_VERSION, provinceCode) as { code: string, name: string } | undefined
  if (province === undefined) {
    throw new TocdoError('TOCDO_ERR_UNKNOWN_AREA',
      `province=${provinceCode} is not a pre-reform (2025-03) province code; use a 2-digit code such as 62 (Kon Tum) or 27 (Bắc Ninh)`,
      { details: { field: 'province' } })
  }
  const districts = db.prepare('SELECT code, name FROM geo_district WHERE version = ? AND province_code = ? ORDER BY code')
    .all(LEGACY_VERSION, provinceCode) as Array<{ code: string, name: string }>
  const agentCounts = new Map((db.prepare(`SELECT g.legacy_district_code AS d, count(*) AS n FROM agent a
      JOIN agency g ON g.id = a.agency_id WHERE g.legacy_province_code = ? AND a.status = 'active' GROUP BY 1`)
    .all(provinceCode) as Array<{ d: string, n: number }>).map((r) => [r.d, r.n]))
  const rows = db.prepare(`SELECT r.legacy_district_code AS district, r.valid, r.download_mbps AS down, r.upload_mbps AS up,
      r.idle_latency_ms AS idle, r.connection_class AS cls, g.category
      FROM result r JOIN agency g ON g.id = r.agency_id
      WHERE r.legacy_province_code = ? AND r.kind = 'speed'`).all(provinceCode) as Array<{
    district: string | null, valid: number, down: number | null, up: number | null, idle: number | null, cls: string, category: string
  }>
  const entries = loadTargetEntries(db)
  const year = now.getUTCFullYear()

  const byDistrict = new Map<string, typeof rows>()
  for (const r of rows) {
    if (r.district === null) continue
    const list = byDistrict.get(r.district) ?? []
    list.push(r)
    byDistrict.set(r.district, list)
  }

  return {
    province: { code: province.code, name: province.name, version: LEGACY_VERSION },
    generatedAt: now.toISOString(),
    note: 'Legacy districts (huyện cũ) are analysis regions since the 1 July 2025 reform. Figures use valid speed results only; mean and median are reported separately.',
    districts: districts.map((d) => {
      const all = byDistrict.get(d.code) ?? []
      const valid = all.filter((r) => r.valid === 1)
      const downs = valid.map((r) => r.down).filter((v): v is number => v !== null)
      const ups = valid.map((r) => r.up).filter((v): v is number => v !== null)
      const idles = valid.map((r) => r.idle).filter((v): v is number => v !== null)
      const targets = new Map<string, AppliedTarget>()
      let judged = 0
      let met = 0
      for (const r of valid) {
        const t = selectNationalTarget(entries, { connectionClass: r.cls, category: r.category }, year)
        if (t === null || r.down === null) continue
        targets.set(t.id, t)
        judged++
        if (r.down >= t.thresholdMbps) met++
      }
      return {
        districtCode: d.code,
        districtName: d.name,
        agents: agentCounts.get(d.code) ?? 0,
        results: all.length,
        validResults: valid.length,
        downloadMeanMbps: round(mean(downs)),
        downloadMedianMbps: round(median(downs)),
        uploadMeanMbps: round(mean(ups)),
        uploadMedianMbps: round(median(ups)),
        idleLatencyMedianMs: round(median(idles)),
        targetMetShare: judged === 0 ? null : met / judged,
        targets: [...targets.values()]
      }
    })
  }
}
