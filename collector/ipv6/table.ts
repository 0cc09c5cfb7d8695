import type { Table } from '../exports/table.js'
import { CHECK_NAMES, type CheckName, type Colour } from './checks.js'
import { LEVELS, type Level } from './readiness.js'
import type { Ipv6Report } from './report.js'

/**
 * The IPv6 report flattened for a spreadsheet (collector/exports: CSV with a BOM, XLSX), with
 * Vietnamese headings like the other reports. Text cells that Excel would read as a formula
 * get a leading apostrophe (CSV injection): agency and host names are typed in by people.
 */

export const LEVEL_VI: Record<Level, string> = {
  ready_plus: 'Sẵn sàng IPv6+ (thêm thư điện tử và DNSSEC)',
  ready: 'Sẵn sàng IPv6',
  partial: 'Một phần',
  none: 'Chưa có IPv6',
  unknown: 'Chưa có dữ liệu'
}
export const CHECK_VI: Record<CheckName, string> = {
  web_aaaa: 'Web có bản ghi AAAA',
  https_v6: 'HTTPS qua IPv6',
  ns_v6: 'Máy chủ tên miền qua IPv6',
  mx_v6: 'Thư điện tử qua IPv6',
  dnssec: 'DNSSEC'
}
const COLOUR_VI: Record<Colour, string> = { green: 'Xanh', yellow: 'Vàng', red: 'Đỏ', gray: 'Xám' }
const WORKS_VI = { works: 'Hoạt động', doesnt_work: 'Không hoạt động', unknown: 'Chưa rõ' } as const
const AREA_VI: Record<string, string> = {
  legacy_district: 'Huyện cũ (vùng phân tích)', legacy_province: 'Tỉnh cũ (trước 01/7/2025)', commune: 'Xã/phường', province: 'Tỉnh/thành phố', agency: 'Cơ quan'
}

export function safeText (v: string | null): string | null {
  return v !== null && /^[=+\-@\t\r]/.test(v) ? `'${v}` : v
}
const pct = (share: number | null): number | null => share === null ? null : Math.round(share * 1000) / 10
const yesNo = (v: boolean | null): string => v === null ? 'Chưa rõ' : v ? 'Có' : 'Không'

function notes (report: Ipv6Report): Array<[string, string]> {
  return [
    ['Kỳ báo cáo', `${report.period.id} (${report.period.from} – ${report.period.to}); kỳ trước: ${report.period.previous}`],
    ['Sẵn sàng IPv6', 'Máy chủ tên miền và HTTPS qua IPv6 đạt (xanh), và mạng của cơ quan dùng được IPv6'],
    ['Sẵn sàng IPv6+', 'Sẵn sàng IPv6, thêm thư điện tử qua IPv6 (hoặc không có dịch vụ thư) và DNSSEC đạt'],
    ['Màu', 'Xanh: hoạt động đầy đủ; Vàng: có địa chỉ IPv6 nhưng dịch vụ không hoạt động qua IPv6; Đỏ: không có địa chỉ IPv6 trong DNS; Xám: không cung cấp / không áp dụng'],
    ['Tạo lúc', report.generatedAt]
  ]
}

export function ipv6Table (report: Ipv6Report): Table {
  if (report.level === 'agency') {
    return {
      title: 'IPv6 theo cơ quan',
      headings: ['Kỳ', 'Mã cơ quan', 'Tên cơ quan', 'Mã xã (2025-07)', 'Mã tỉnh (2025-07)', 'Mã huyện cũ', 'Mã tỉnh cũ', 'Mức sẵn sàng',
        'Có địa chỉ IPv6 toàn cầu', 'Mạng dùng được IPv6', 'Ưu tiên IPv6', ...CHECK_NAMES.flatMap((c) => [CHECK_VI[c], `${CHECK_VI[c]} – lý do`]),
        'Sẵn sàng chỉ dùng IPv6 (IPv6-only)', 'Có DNS64/NAT64', 'Tiền tố NAT64', 'Dịch vụ công đạt qua IPv6', 'IPv6-only – lý do'],
      rows: report.agencies.map((a) => [report.period.id, a.agencyId, safeText(a.agencyName), a.communeCode, a.provinceCode, a.legacyDistrictCode,
        a.legacyProvinceCode, LEVEL_VI[a.level], yesNo(a.network.capable), WORKS_VI[a.network.works], yesNo(a.network.preferred),
        ...CHECK_NAMES.flatMap((c) => {
          const cell = a.services[c]
          return cell === null ? ['Chưa kiểm tra', null] : [COLOUR_VI[cell.colour], safeText(cell.reason)]
        }),
        ...(a.ipv6Only === null
          ? ['Chưa đo', null, null, null, null]
          : [yesNo(a.ipv6Only.ready), yesNo(a.ipv6Only.nat64), a.ipv6Only.nat64Prefixes.join(' ') || null, `${a.ipv6Only.servicesOk}/${a.ipv6Only.servicesTotal}`, safeText(a.ipv6Only.reason)])]),
      notes: notes(report)
    }
  }
  const targetIds = [...new Set(report.areas.flatMap((a) => a.targets.map((t) => t.id)))]
  const targetInfo = new Map(report.areas.flatMap((a) => a.targets).map((t) => [t.id, t]))
  return {
    title: `IPv6 – ${AREA_VI[report.level] ?? report.level}`,
    headings: ['Kỳ', 'Cấp', 'Mã', 'Tên', 'Số cơ quan', ...LEVELS.flatMap((l) => [`${LEVEL_VI[l]} (số)`, `${LEVEL_VI[l]} (%)`]),
      'Tỉ lệ sẵn sàng (%)', `Tỉ lệ sẵn sàng kỳ trước ${report.period.previous} (%)`, 'Thay đổi (điểm %)', 'Mạng không dùng được IPv6 (số)',
      ...CHECK_NAMES.flatMap((c) => [`${CHECK_VI[c]}: đỏ`, `${CHECK_VI[c]}: vàng`]),
      ...targetIds.map((id) => { const t = targetInfo.get(id); return `${t?.document ?? id} (${t?.year ?? ''}) – đạt (%) / yêu cầu ${pct(t?.requiredShare ?? null) ?? '?'} %` }),
      'Đã đo IPv6-only (số)', 'Sẵn sàng IPv6-only (số)', 'Sẵn sàng IPv6-only (%)'],
    rows: report.areas.map((a) => [report.period.id, AREA_VI[report.level] ?? report.level, a.code, safeText(a.name), a.agencies,
      ...LEVELS.flatMap((l) => [a.levels[l].count, pct(a.levels[l].share)]), pct(a.readyShare), pct(a.trend.previousReadyShare),
      pct(a.trend.change), a.failing.network_doesnt_work, ...CHECK_NAMES.flatMap((c) => [a.failing[c].red, a.failing[c].yellow]),
      ...targetIds.map((id) => pct(a.targets.find((t) => t.id === id)?.measuredShare ?? null)),
      a.ipv6Only.measured, a.ipv6Only.ready, pct(a.ipv6Only.readyShare)]),
    notes: [...notes(report), ...[...targetInfo.values()].map((t): [string, string] =>
      [`${t.document} (${t.year})`, `${t.issuer ?? ''}${t.date === null ? '' : `, ${t.date}`}${t.section === null ? '' : `, ${t.section}`}: ${t.note}`])]
  }
}
