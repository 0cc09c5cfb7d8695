import type { Period } from '../../shared/period.js'
import { CURRENT_GEO_VERSION, LEGACY_GEO_VERSION, type GeoVersion } from '../storage/area-levels.js'
import type { ReportSide } from '../storage/index.js'
import { areasReport } from '../reports/areas-report.js'
import { officialReport } from '../reports/official-report.js'
import { overviewReport } from '../reports/overview.js'
import { DEFAULT_REPORT_RULES } from '../reports/rules.js'

/** One report that differs between the two stores, named as its API path would name it. */
export interface ReportDifference { report: string, sqlite: string, postgres: string }
export interface ReportComparison { compared: number, months: string[], differences: ReportDifference[] }

interface NamedReport { name: string, build: (stores: ReportSide) => Promise<unknown> }

/**
 * Every report the RollupReader serves, for each month present in either store and for all
 * time: the areas of each level (countrywide for provinces, per province for communes and
 * legacy districts), and each province's overview and official report in both geographies.
 * Built on both stores with the same rules and the same `now`, and compared as JSON.
 */
export async function compareReports (sqlite: ReportSide, postgres: ReportSide, now: number): Promise<ReportComparison> {
  const current = new Set<string>()
  const legacy = new Set<string>()
  const months = new Set<string>()
  for (const side of [sqlite, postgres]) {
    for (const r of await side.rollups.rowsInRange({ column: null }, null, null)) {
      months.add(r.month)
      current.add(r.provinceCode)
      if (r.legacyProvinceCode !== '') legacy.add(r.legacyProvinceCode)
    }
  }
  const sortedMonths = [...months].sort()
  const periods: Array<[string, Period]> = [
    ...sortedMonths.map((m): [string, Period] => [m, { kind: 'month', from: m, to: m, months: [m] }]),
    ['all', { kind: 'all', from: null, to: null, months: null }]
  ]
  const rules = DEFAULT_REPORT_RULES
  const reports: NamedReport[] = []
  for (const [p, period] of periods) {
    reports.push({ name: `areas?level=province&period=${p}`, build: async (s) => await areasReport(s, { level: 'province', period, rules, now }) })
    reports.push({ name: `areas?level=legacy_province&period=${p}`, build: async (s) => await areasReport(s, { level: 'legacy_province', period, rules, now }) })
    const byVersion: Array<[GeoVersion, Set<string>, 'commune' | 'legacy_district']> = [[CURRENT_GEO_VERSION, current, 'commune'], [LEGACY_GEO_VERSION, legacy, 'legacy_district']]
    for (const [version, codes, level] of byVersion) {
      for (const province of [...codes].sort()) {
        reports.push({ name: `areas?level=${level}&province=${province}&period=${p}`, build: async (s) => await areasReport(s, { level, province, period, rules, now }) })
        reports.push({ name: `overview?province=${province}&version=${version}&period=${p}`, build: async (s) => await overviewReport(s, { province, version, period, rules, now }) })
        reports.push({
          name: `official?province=${province}&version=${version}&period=${p}`,
          build: async (s) => await officialReport(s, { province, version, period, rules, now, departmentName: 'Sở Khoa học và Công nghệ' })
        })
      }
    }
  }
  const differences: ReportDifference[] = []
  for (const r of reports) {
    const [a, b] = [await outcome(r, sqlite), await outcome(r, postgres)]
    if (a !== b) differences.push({ report: r.name, sqlite: a, postgres: b })
  }
  return { compared: reports.length, months: sortedMonths, differences }
}

/** The report as JSON, or its error's message: a report failing on one store only is a difference too. */
async function outcome (r: NamedReport, stores: ReportSide): Promise<string> {
  try {
    return JSON.stringify(await r.build(stores))
  } catch (err) {
    return `error: ${err instanceof Error ? err.message : String(err)}`
  }
}
