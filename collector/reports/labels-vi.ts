import type { TargetEntry } from '../targets/targets.js'
import { AREA_LEVELS, type Level } from '../storage/area-levels.js'
import type { Cell, TargetEvaluation } from './figures.js'
import { FIGURES, UNIT_VI, type FigureKey } from './figure-registry.js'

/*
 * The Vietnamese words of every export and of the official report document. The names of the
 * figures come from their registry (figure-registry.ts), which the dashboard also reads (through
 * GET /api/v1/reports/meta), so one measure has one name everywhere.
 */

export const FIGURE_VI = Object.fromEntries(FIGURES.map((f) => [f.key, f.label.vi])) as Record<FigureKey, string>

export const FIGURE_UNIT_VI = Object.fromEntries(FIGURES.map((f) => [f.key, UNIT_VI[f.unit]])) as Record<FigureKey, string>

export const STATUS_VI: Record<Cell['status'], string> = { ok: 'đủ dữ liệu', insufficient_data: 'chưa đủ dữ liệu', no_data: 'không có dữ liệu' }

export const LEVEL_VI: Record<string, string> = {
  legacy_district: 'Huyện cũ – vùng phân tích',
  legacy_province: 'Tỉnh cũ (trước 01/07/2025) – vùng phân tích',
  commune: 'Xã / phường / đặc khu',
  province: 'Tỉnh / thành phố'
}

export const VALUE_VI: Record<string, string> = {
  office: 'Giờ hành chính',
  evening: 'Buổi tối (19–23 giờ)',
  other: 'Giờ khác',
  fixed: 'Cố định',
  leased_line: 'Kênh thuê riêng',
  '4g': 'Di động 4G',
  '5g': 'Di động 5G'
}

export const SPLIT_VI: Record<string, string> = { connection_class: 'Loại kết nối', isp: 'Nhà mạng', time_band: 'Khung giờ' }

const CATEGORY_VI: Record<string, string> = {
  organisation: 'cơ quan, tổ chức',
  public_access_point: 'điểm truy cập công cộng',
  household: 'hộ gia đình',
  high_tech_zone: 'khu công nghệ cao'
}

/** The rule of a target in words: "≥ 90 % đường truyền có tốc độ trung bình ≥ 1.000 Mb/s". */
export function targetRuleVi (t: Pick<TargetEntry, 'statistic' | 'thresholdMbps' | 'requiredShare' | 'connectionClasses'> | TargetEvaluation): string {
  const thr = (t.thresholdMbps ?? 0).toLocaleString('vi-VN')
  const share = (t.requiredShare ?? 1) >= 1 ? '100 %' : `≥ ${Math.round((t.requiredShare ?? 1) * 100)} %`
  if (t.statistic === 'share_of_lines_mean_at_least') return `${share} đường truyền có tốc độ tải xuống trung bình ≥ ${thr} Mb/s`
  if (t.statistic === 'share_of_lines_mean_above') return `${share} đường truyền có tốc độ tải xuống trung bình > ${thr} Mb/s`
  if (t.statistic === 'ispeed_area_mean_at_least') return `tốc độ tải xuống trung bình của địa bàn (trung bình các mẫu đại diện, cách tính của i-Speed) ≥ ${thr} Mb/s`
  if (t.statistic === 'share_of_lines_min_at_least') return `${share} đường truyền có tốc độ tải xuống tối thiểu (mẫu đại diện thấp nhất trong kỳ) ≥ ${thr} Mb/s`
  if (t.statistic === 'share_of_units') return `${share} đơn vị đạt yêu cầu`
  if (t.statistic === 'ratio_to_baseline_at_least') return 'gấp đôi số liệu năm gốc'
  return 'quy định của văn bản'
}

/** Who a target counts, in words. */
export function scopeVi (categories: readonly string[], unitTypes: readonly string[] | null | undefined, inHighTechZone = false): string {
  const who = categories.length === 0
    ? 'toàn địa bàn (chỉ tiêu cấp địa bàn, không đánh giá theo từng đường truyền)'
    : categories.map((c) => CATEGORY_VI[c] ?? c).join(' và ') + (inHighTechZone ? ' trong khu công nghệ cao' : '')
  return unitTypes === null || unitTypes === undefined || unitTypes.length === 0 ? who : `${who} ở khu vực đô thị (${unitTypes.join(', ')})`
}

/** The lines a target's scope leaves out, in words; empty when none. */
export function leftOutVi (e: TargetEvaluation): string {
  if (e.leftOut.agents === 0) return ''
  // Lines limited by the measuring machine's card are in scope but cannot be judged (docs/methodology.md §11).
  const link = e.leftOut.reasons.filter((r) => r.reason === 'local_link').reduce((n, r) => n + r.agents, 0)
  const scope = e.leftOut.reasons.filter((r) => r.reason !== 'local_link')
  const reasons = scope.map((r) => r.reason === 'unit_type'
    ? `${r.agents} đơn vị ở ${r.value === 'unknown' ? 'đơn vị chưa rõ loại' : r.value}`
    : r.reason === 'high_tech_zone'
      ? `${r.agents} không thuộc khu công nghệ cao`
      : `${r.agents} ${CATEGORY_VI[r.value] ?? r.value}`)
  const out: string[] = []
  if (scope.length > 0) out.push(`Không tính ${e.leftOut.agents - link} đường truyền ngoài đối tượng: ${reasons.join('; ')}.`)
  if (link > 0) out.push(`Không đánh giá được ${link} đường truyền bị giới hạn bởi card mạng của máy đo (kết quả chỉ là mức tối thiểu, thấp hơn ngưỡng).`)
  return out.join(' ')
}

export function yearRuleVi (e: Pick<TargetEvaluation, 'yearRule' | 'year'>): string {
  return e.yearRule === 'exact' ? `chỉ tiêu năm ${e.year}` : e.yearRule === 'latest_before' ? `chỉ tiêu năm ${e.year} (năm gần nhất văn bản nêu)` : `mốc định hướng năm ${e.year} (tham khảo)`
}

/** The notes every export and the document carry, by level. */
export function levelNotesVi (level: Level): string[] {
  const notes = [
    'Số liệu chỉ dùng các lần đo hợp lệ; các lần đo của một máy đo trong cùng một giờ đồng hồ (giờ Việt Nam) tính là một mẫu đại diện (trung vị của chúng). Trung bình và trung vị luôn ghi riêng.',
    'Dưới ngưỡng công bố, ô ghi "chưa đủ dữ liệu" kèm số mẫu n, không ghi số.'
  ]
  if (AREA_LEVELS[level].legacy) {
    notes.unshift('Huyện cũ và tỉnh cũ (địa giới trước 01/07/2025) là vùng phân tích, không còn là đơn vị hành chính. Mỗi máy đo được gán vào một huyện cũ theo bảng sắp xếp xã cũ – xã mới; không phân bổ theo diện tích.')
  }
  return notes
}

/** A target's line in the notes of an export: document, issuer, date, rule, scope, year rule. */
export function targetNoteVi (e: TargetEvaluation): string {
  const src = [e.document, e.issuer, e.date === null ? null : `ngày ${e.date.split('-').reverse().join('/')}`, e.section === null ? null : `mục ${e.section}`].filter((x) => x !== null).join(', ')
  const left = leftOutVi(e)
  return `${src}. ${targetRuleVi(e)}; đối tượng: ${scopeVi(e.appliesTo.categories, e.appliesTo.unitTypes, e.appliesTo.inHighTechZone)}; ${yearRuleVi(e)}.${left === '' ? '' : ` ${left}`}`
}

/** How generated sample data is marked on every export (collector/sample-data.ts). */
export const SAMPLE_TITLE = 'DỮ LIỆU MẪU'
export const SAMPLE_NOTE = 'Số liệu do phần mềm tạo ra để xem thử, không phải kết quả đo thật; không dùng để báo cáo.'
