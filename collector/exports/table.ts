import type { AreaRow } from '../reports/areas-report.js'
import type { Cell } from '../reports/figures.js'

/** A report flattened for a spreadsheet: Vietnamese headings, one line per area row. */
export interface Table { title: string, headings: string[], rows: Array<Array<string | number | null>>, notes: Array<[string, string]> }

const LEVEL_VI: Record<string, string> = {
  legacy_district: 'Huyện cũ (vùng phân tích)',
  legacy_province: 'Tỉnh cũ (trước 01/7/2025)',
  commune: 'Xã/phường',
  province: 'Tỉnh/thành phố'
}
const SPLIT_VI: Record<string, string> = { connection_class: 'Loại kết nối', isp: 'Nhà mạng', time_band: 'Khung giờ' }
const VALUE_VI: Record<string, string> = {
  office: 'Giờ hành chính',
  evening: 'Buổi tối (19–23h)',
  other: 'Giờ khác',
  fixed: 'Cố định',
  leased_line: 'Kênh thuê riêng',
  '4g': '4G',
  '5g': '5G'
}
const STATUS_VI: Record<Cell['status'], string> = { ok: 'Đủ dữ liệu', insufficient_data: 'Không đủ dữ liệu', no_data: 'Không có dữ liệu' }

const FIGURES: Array<[keyof AreaRow['figures'], string]> = [
  ['downloadMean', 'Tải xuống trung bình (Mbps)'],
  ['downloadMedian', 'Tải xuống trung vị (Mbps)'],
  ['downloadP20', 'Tải xuống phân vị 20 (Mbps)'],
  ['uploadMean', 'Tải lên trung bình (Mbps)'],
  ['uploadMedian', 'Tải lên trung vị (Mbps)'],
  ['idleLatencyMedianMs', 'Độ trễ khi rỗi trung vị (ms)'],
  ['agentMedianOfMedians', 'Trung vị của trung vị từng thiết bị đo (Mbps)'],
  ['busyHour8080', 'Tốc độ 80/80 giờ hành chính (Mbps)']
]

const COVERAGE: Array<[keyof AreaRow['coverage'], string]> = [
  ['agentsEnrolled', 'Thiết bị đo đã đăng ký'],
  ['agentsReporting', 'Thiết bị đo có kết quả'],
  ['agencies', 'Cơ quan có kết quả'],
  ['results', 'Tổng số kết quả'],
  ['speedTests', 'Số lần đo tốc độ'],
  ['validTests', 'Số lần đo hợp lệ'],
  ['skipped', 'Số lần bỏ qua'],
  ['representativeSamples', 'Số mẫu đại diện']
]

export function areaTable (title: string, rows: readonly AreaRow[], notes: Array<[string, string]>): Table {
  const targets = new Map<string, string>()
  for (const r of rows) for (const t of r.targets) if (!targets.has(t.targetId)) targets.set(t.targetId, `${t.document} (${t.year}${t.horizon ? ', mục tiêu xa' : ''}) – ${t.targetId}`)
  const headings = ['Cấp', 'Mã vùng', 'Tên vùng', 'Phiên bản địa giới', 'Chia theo', 'Nhóm',
    ...COVERAGE.map(([, h]) => h),
    ...FIGURES.flatMap(([, h]) => [h, `${h} – số mẫu (n)`, `${h} – tình trạng`]),
    ...[...targets.values()].flatMap((h) => [`${h}: chỉ số`, `${h}: n`, `${h}: đạt/không đạt`, `${h}: đường truyền ngoài đối tượng (không tính)`])]
  const out = rows.map((r) => [
    LEVEL_VI[r.area.level] ?? r.area.level, r.area.code, r.area.name, r.area.version,
    r.split === null ? '' : SPLIT_VI[r.split.by] ?? r.split.by,
    r.split === null ? 'Tất cả' : VALUE_VI[r.split.value] ?? r.split.value,
    ...COVERAGE.map(([k]) => r.coverage[k]),
    ...FIGURES.flatMap(([k]) => { const c = r.figures[k]; return [c.value, c.n, STATUS_VI[c.status]] }),
    ...[...targets.keys()].flatMap((id) => {
      const t = r.targets.find((x) => x.targetId === id)
      if (t === undefined) return [null, null, 'Không áp dụng', null]
      return [t.figure.value, t.figure.n, t.met === null ? STATUS_VI[t.figure.status] : t.met ? 'Đạt' : 'Không đạt', t.leftOut.agents]
    })
  ])
  const targetNotes: Array<[string, string]> = []
  for (const r of rows) {
    for (const t of r.targets) {
      if (targetNotes.some(([k]) => k === t.targetId)) continue
      targetNotes.push([t.targetId, `${t.document}${t.issuer === null ? '' : `, ${t.issuer}`}${t.date === null ? '' : `, ${t.date}`}. ${t.why}. Cách tính: ${t.statistic}, ngưỡng ${t.thresholdMbps} Mbps${t.requiredShare === null ? '' : `, tỷ lệ yêu cầu ${Math.round(t.requiredShare * 100)} %`}.`])
    }
  }
  return { title, headings, rows: out, notes: [...notes, ...targetNotes] }
}
