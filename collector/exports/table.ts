import type { AreaRow } from '../reports/areas-report.js'
import { FIGURE_KEYS } from '../reports/figure-registry.js'
import { FIGURE_UNIT_VI, FIGURE_VI, LEVEL_VI, SPLIT_VI, STATUS_VI, VALUE_VI, targetNoteVi, targetRuleVi } from '../reports/labels-vi.js'

/** A report flattened for a spreadsheet: Vietnamese headings, one line per area row. */
export interface Table { title: string, headings: string[], rows: Array<Array<string | number | null>>, notes: Array<[string, string]> }

/** Every figure of the registry, in its order, with its Vietnamese name and unit. */
const FIGURES = FIGURE_KEYS.map((k): [keyof AreaRow['figures'], string] => [k, `${FIGURE_VI[k]} (${FIGURE_UNIT_VI[k]})`])

const COVERAGE: Array<[keyof AreaRow['coverage'], string]> = [
  ['agentsEnrolled', 'Máy đo đã đăng ký'],
  ['agentsReporting', 'Máy đo có kết quả'],
  ['agencies', 'Cơ quan có kết quả'],
  ['results', 'Tổng số kết quả'],
  ['speedTests', 'Số lần đo tốc độ'],
  ['validTests', 'Số lần đo hợp lệ'],
  ['skipped', 'Số lần bỏ qua'],
  ['representativeSamples', 'Số mẫu đại diện']
]

export function areaTable (title: string, rows: readonly AreaRow[], notes: Array<[string, string]>): Table {
  const targets = new Map<string, string>()
  for (const r of rows) for (const t of r.targets) if (!targets.has(t.targetId)) targets.set(t.targetId, `${t.document} (${t.year}${t.horizon ? ', mốc định hướng' : ''}): ${targetRuleVi(t)}`)
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
      return [t.figure.value, t.figure.n, t.met === null ? STATUS_VI[t.figure.status] : t.met ? 'Đạt' : 'Chưa đạt', t.leftOut.agents]
    })
  ])
  const targetNotes: Array<[string, string]> = []
  for (const r of rows) {
    for (const t of r.targets) {
      const key = `${t.document} (${t.year})`
      if (targetNotes.some(([k, v]) => k === key && v === targetNoteVi(t))) continue
      targetNotes.push([key, targetNoteVi(t)])
    }
  }
  return { title, headings, rows: out, notes: [...notes, ...targetNotes] }
}
