import { CHECK_NAMES } from './checks.js'
import { LEVELS } from './readiness.js'
import type { Ipv6Report } from './report.js'

/**
 * CSV of the IPv6 report: UTF-8 with a BOM so Excel opens Vietnamese names correctly, CRLF
 * line ends (RFC 4180), and cells that could start a formula prefixed with a quote
 * (OWASP CSV injection): agency and host names are user input.
 */
export const CSV_BOM = '\uFEFF'

export function csvCell (value: unknown): string {
  if (value === null || value === undefined) return ''
  let text = typeof value === 'number' ? String(Math.round(value * 10_000) / 10_000) : String(value)
  if (/^[=+\-@\t\r]/.test(text) && typeof value !== 'number') text = `'${text}`
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export function toCsv (header: readonly string[], rows: ReadonlyArray<readonly unknown[]>): string {
  return CSV_BOM + [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n'
}

export function ipv6ReportCsv (report: Ipv6Report): string {
  if (report.level === 'agency') {
    const header = ['period', 'agency_id', 'agency_name', 'commune_code', 'province_code', 'legacy_district_code', 'legacy_province_code',
      'level', 'network_capable', 'network_works', 'network_preferred', ...CHECK_NAMES.flatMap((c) => [c, `${c}_reason`])]
    return toCsv(header, report.agencies.map((a) => [report.period.id, a.agencyId, a.agencyName, a.communeCode, a.provinceCode,
      a.legacyDistrictCode, a.legacyProvinceCode, a.level, a.network.capable, a.network.works, a.network.preferred,
      ...CHECK_NAMES.flatMap((c) => [a.services[c]?.colour ?? '', a.services[c]?.reason ?? ''])]))
  }
  const header = ['period', 'level', 'code', 'name', 'version', 'agencies', ...LEVELS.flatMap((l) => [`${l}_count`, `${l}_share`]),
    'ready_share', 'previous_period', 'previous_ready_share', 'change', 'network_doesnt_work',
    ...CHECK_NAMES.flatMap((c) => [`${c}_red`, `${c}_yellow`]), 'targets']
  return toCsv(header, report.areas.map((a) => [report.period.id, report.level, a.code, a.name, a.version, a.agencies,
    ...LEVELS.flatMap((l) => [a.levels[l].count, a.levels[l].share]), a.readyShare, a.trend.previousPeriod, a.trend.previousReadyShare,
    a.trend.change, a.failing.network_doesnt_work, ...CHECK_NAMES.flatMap((c) => [a.failing[c].red, a.failing[c].yellow]),
    a.targets.map((t) => `${t.document} ${t.year}: ${t.measuredShare === null ? 'not measured' : `${Math.round(t.measuredShare * 1000) / 10} %`} of ${t.agencies} vs ${t.requiredShare === null ? '?' : `${t.requiredShare * 100} %`}`).join('; ')]))
}
