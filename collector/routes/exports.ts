import type { FastifyInstance } from 'fastify'
import { AREA_LEVELS, CURRENT_GEO_VERSION, VERSION_LEVELS } from '../storage/area-levels.js'
import { Type } from '@sinclair/typebox'
import { areasReport, type Level, type Split } from '../reports/areas-report.js'
import { parsePeriod } from '../../shared/period.js'
import { DEFAULT_REPORT_RULES, type ReportRules } from '../reports/rules.js'
import { areaTable, type Table } from '../exports/table.js'
import { levelNotesVi } from '../reports/labels-vi.js'
import { EndParam, ErrorSchema, PeriodParam, ProvinceParam } from '../reports/schemas.js'
import { sendTable } from '../exports/send-table.js'

/**
 * GET /api/v1/exports/province.xlsx: the province's reports in one workbook, one sheet per
 * report (province by connection class, ISP and time band; its sub-areas), plus "Ghi chú".
 * Current provinces (2025-07) list communes; former provinces (2025-03) legacy districts.
 */
export async function exportRoutes (fastify: FastifyInstance, opts: { rules?: Partial<ReportRules>, sample?: boolean } = {}): Promise<void> {
  const rules: ReportRules = { ...DEFAULT_REPORT_RULES, ...opts.rules }
  fastify.get('/api/v1/exports/province.xlsx', {
    schema: {
      tags: ['reports'],
      summary: 'One workbook per province: a sheet per report, Vietnamese headings, notes with rules and target sources',
      querystring: Type.Object({
        province: ProvinceParam,
        version: Type.Optional(Type.Union([Type.Literal('2025-07'), Type.Literal('2025-03')], { default: '2025-07' })),
        period: Type.Optional(PeriodParam),
        end: Type.Optional(EndParam)
      }),
      response: { 400: ErrorSchema, 404: ErrorSchema }
    }
  }, async (request, reply) => {
    const q = request.query as { province: string, version?: '2025-07' | '2025-03', period?: string, end?: string }
    const { province: top, area: sub } = VERSION_LEVELS[q.version ?? CURRENT_GEO_VERSION]
    const legacy = AREA_LEVELS[top].legacy
    const period = parsePeriod(q.period, q.end, 'rolling12')
    const sheet = async (title: string, level: Level, split: Split | undefined, code?: string): Promise<Table> => {
      const r = await areasReport(fastify.stores, { level, province: q.province, code, period, split, rules })
      return areaTable(title, r.rows, [
        ['Kỳ báo cáo', period.kind === 'all' ? 'toàn bộ dữ liệu' : `${period.from ?? ''} – ${period.to ?? ''}`],
        ['Ngưỡng công bố', `≥ ${rules.minRepresentativeSamples} mẫu đại diện cho số liệu kiểu i-Speed; ≥ ${rules.minAgents} máy đo cho số liệu theo máy đo; ≥ ${rules.minBusyHourSamplesPerAgent} mẫu đại diện giờ hành chính mỗi máy đo cho chỉ số 80/80`],
        ...levelNotesVi(level).map((n, i): [string, string] => [`Lưu ý ${i + 1}`, n])
      ])
    }
    const tables = [
      await sheet('Tổng hợp theo loại kết nối', top, 'connection_class', q.province),
      await sheet('Theo nhà mạng', top, 'isp', q.province),
      await sheet('Theo khung giờ', top, 'time_band', q.province),
      await sheet(legacy ? 'Theo huyện cũ' : 'Theo xã, phường', sub, undefined)
    ]
    // The notes repeat per sheet; keep each note once.
    const seen = new Set<string>()
    for (const t of tables) t.notes = t.notes.filter(([k, v]) => { const key = `${k}\u0000${v}`; if (seen.has(key)) return false; seen.add(key); return true })
    return await sendTable(reply, 'xlsx', tables, `tocdo-province-${q.version ?? '2025-07'}-${q.province}-${period.to ?? 'all'}`, opts.sample)
  })
}
