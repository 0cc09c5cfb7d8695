import type { OfficialReport, Verdict } from '../official-report.js'
import { FIGURE_VI } from '../labels-vi.js'

/*
 * What the .docx and the PDF share: the section titles, the colours of the verdicts and the
 * values of the charts (drawn in charts.ts). Both renderers print the same text from the same report, so a number
 * cannot differ between them and the API (docs/official-report.md).
 */

/** Fill colours of the verdicts (hex, no '#'): the dashboard's legend in print-safe tints. */
export const VERDICT_FILL: Record<Verdict, string> = { met: 'C6EFCE', close: 'FFEB9C', far: 'FFC7CE', na: 'E7E6E6' }

export const MOTTO = ['CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM', 'Độc lập - Tự do - Hạnh phúc'] as const
/** Number and date lines are left for the department to fill (Nghị định 30/2020/NĐ-CP, Phụ lục I). */
export const NUMBER_LINE = 'Số:        /BC-'
export const dateLine = (place: string): string => `${place}, ngày      tháng      năm 20     `

export const SECTIONS = {
  scope: 'I. PHẠM VI VÀ ĐỘ PHỦ DỮ LIỆU',
  headline: 'II. KẾT QUẢ CHÍNH',
  targets: 'III. SO VỚI CHỈ TIÊU',
  areas: 'IV. KẾT QUẢ THEO ĐỊA BÀN',
  charts: 'V. BIỂU ĐỒ VÀ TỐC ĐỘ ỔN ĐỊNH 80/80',
  ipv6: 'VI. TIẾN ĐỘ CHUYỂN ĐỔI IPv6',
  method: 'VII. PHƯƠNG PHÁP',
  allTargets: 'VIII. CÁC CHỈ TIÊU VÀ VĂN BẢN'
} as const

export const SAMPLE_MARK = 'DỮ LIỆU MẪU – không phải số liệu đo thật, không dùng để báo cáo'

export interface Bar { label: string, value: number | null, text: string }

export function trendBars (r: OfficialReport): Bar[] {
  return r.trend.map((m) => ({ label: m.label, value: m.mean.status === 'ok' ? m.mean.value : null, text: m.mean.text }))
}

export function areaBars (r: OfficialReport): Bar[] {
  return r.subAreas.rows.map((a) => ({ label: a.name, value: a.downloadMean.status === 'ok' ? a.downloadMean.value : null, text: a.downloadMean.text }))
}

export const LEGEND: Array<[Verdict, string]> = [
  ['met', 'Đạt chỉ tiêu'],
  ['close', 'Chưa đạt, từ 80 % mức yêu cầu trở lên'],
  ['far', 'Chưa đạt, dưới 80 % mức yêu cầu'],
  ['na', 'Chưa đủ dữ liệu để kết luận']
]

export const RECIPIENTS = ['Nơi nhận:', '- Như trên;', '- Lưu: VT.']

/** A table's content, shared by both renderers: a cell is text, or text coloured by its verdict. */
export type TableCellContent = string | { text: string, verdict: Verdict }
export interface TableContent { head: string[], rows: TableCellContent[][] }

export function headlineTable (r: OfficialReport): TableContent {
  return { head: ['Chỉ số', 'Giá trị', 'Số mẫu (n)'], rows: r.headline.map((f) => [`${f.name} (${f.unit})`, f.text, `${f.n}`]) }
}

export function targetsTable (r: OfficialReport): TableContent {
  return {
    head: ['Văn bản', 'Chỉ tiêu', 'Đối tượng', 'Kết quả', 'Kết luận'],
    rows: r.targets.map((t) => [
      `${t.document} (${t.year})`,
      `${t.rule}; ${t.yearRule}`,
      t.leftOut === '' ? t.scope : `${t.scope}. ${t.leftOut}`,
      t.figureText,
      { text: t.verdictText, verdict: t.verdict }
    ])
  }
}

export function areasTable (r: OfficialReport): TableContent {
  return {
    head: [r.subAreas.level, 'Máy đo có kết quả', FIGURE_VI.downloadMean, FIGURE_VI.downloadMedian, ...r.subAreas.columns.map((c) => c.label)],
    rows: r.subAreas.rows.map((a) => [
      `${a.name} (${a.code})`,
      `${a.agentsReporting}/${a.agentsEnrolled}`,
      a.downloadMean.text,
      a.downloadMedian.text,
      ...a.targets.map((t) => t === null ? 'không áp dụng' : { text: t.text, verdict: t.verdict })
    ])
  }
}

/** A table's head and rows as the renderers' `table(head, rows)` takes them. */
export function cells (t: TableContent): [string[], TableCellContent[][]] {
  return [t.head, t.rows]
}
