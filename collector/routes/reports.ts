import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { PATHS } from '../../shared/protocol.js'
import { districtReport } from '../reports/district-report.js'
import { areasReport, type Level, type Split } from '../reports/areas-report.js'
import { overviewReport } from '../reports/overview.js'
import { trendReport } from '../reports/trend.js'
import { distributionReport } from '../reports/distribution.js'
import { agencyReport } from '../reports/agency-report.js'
import { parsePeriod } from '../../shared/period.js'
import { reportsMeta } from '../reports/meta.js'
import { publicAgencyReport } from '../reports/public-view.js'
import { DEFAULT_REPORT_RULES, type ReportRules } from '../reports/rules.js'
import { areaTable } from '../exports/table.js'
import { sendTable } from '../exports/send-table.js'
import { levelNotesVi } from '../reports/labels-vi.js'
import {
  AgencyReportSchema, AreaCodeParam, AreasReportSchema, DistributionReportSchema, DistrictReportSchema, EndParam, ErrorSchema, FormatParam,
  LevelParam, OverviewReportSchema, PeriodParam, ProvinceParam, ReportsMetaSchema, SplitParam, TrendReportSchema
} from '../reports/schemas.js'

export interface ReportRoutesOptions { rules?: Partial<ReportRules>, /** Generated sample data: every export says so. */ sample?: boolean }

const errors = { 400: ErrorSchema, 404: ErrorSchema }
const LEVEL_TITLE: Record<Level, string> = { legacy_district: 'Theo huyện cũ', legacy_province: 'Theo tỉnh cũ', commune: 'Theo xã, phường', province: 'Theo tỉnh' }

/**
 * The report API (docs/reports-api.md). Read-only over the rollups; the rules in force
 * (publication minimums) come from the plugin options and are printed in every reply.
 */
export async function reportRoutes (fastify: FastifyInstance, opts: ReportRoutesOptions = {}): Promise<void> {
  const rules: ReportRules = { ...DEFAULT_REPORT_RULES, ...opts.rules }

  fastify.get('/api/v1/reports/meta', {
    schema: {
      tags: ['reports'],
      summary: 'The figures every area report carries: key, unit, basis, publication minimum in force, where they are listed, names in Vietnamese and English',
      response: { 200: ReportsMetaSchema }
    }
  }, async () => reportsMeta(rules))

  fastify.get(PATHS.districtReport, {
    schema: {
      tags: ['reports'],
      summary: 'Per legacy district of a pre-reform province (issue 2 contract, extended)',
      querystring: Type.Object({ province: ProvinceParam, period: Type.Optional(PeriodParam), end: Type.Optional(EndParam), format: Type.Optional(FormatParam) }),
      response: { 200: DistrictReportSchema, ...errors }
    }
  }, async (request, reply) => {
    const q = request.query as { province: string, period?: string, end?: string, format?: 'json' | 'csv' | 'xlsx' }
    const period = parsePeriod(q.period, q.end, 'all')
    const report = await districtReport(fastify.stores, q.province, new Date(), { period, rules })
    if (q.format === undefined || q.format === 'json') return report
    const rows = report.districts.map((d) => ({ area: { level: 'legacy_district' as const, version: '2025-03' as const, code: d.districtCode, name: d.districtName, fullName: d.districtName }, split: null, coverage: d.coverage, figures: d.figures, targets: d.targetEvaluations }))
    return await sendTable(reply, q.format, [areaTable(`Huyện cũ – ${report.province.name}`, rows, levelNotesVi('legacy_district').map((n, i): [string, string] => [`Lưu ý ${i + 1}`, n]))], `tocdo-districts-${q.province}-${period.to ?? 'all'}`, opts.sample)
  })

  fastify.get('/api/v1/reports/areas', {
    schema: {
      tags: ['reports'],
      summary: 'Figures per area (legacy district, legacy province, commune, province), optionally split',
      querystring: Type.Object({
        level: LevelParam,
        province: Type.Optional(ProvinceParam),
        code: Type.Optional(AreaCodeParam),
        period: Type.Optional(PeriodParam),
        end: Type.Optional(EndParam),
        split: Type.Optional(SplitParam),
        format: Type.Optional(FormatParam)
      }),
      response: { 200: AreasReportSchema, ...errors }
    }
  }, async (request, reply) => {
    const q = request.query as { level: Level, province?: string, code?: string, period?: string, end?: string, split?: Split, format?: 'json' | 'csv' | 'xlsx' }
    const period = parsePeriod(q.period, q.end, 'rolling12')
    const report = await areasReport(fastify.stores, { level: q.level, province: q.province, code: q.code, period, split: q.split, rules })
    if (q.format === undefined || q.format === 'json') return report
    const title = `${LEVEL_TITLE[q.level]}${q.province === undefined ? '' : ` ${q.province}`}`
    const notes: Array<[string, string]> = [
      ['Kỳ báo cáo', period.kind === 'all' ? 'toàn bộ dữ liệu' : `${period.from ?? ''} – ${period.to ?? ''}`],
      ['Ngưỡng công bố', `≥ ${rules.minRepresentativeSamples} mẫu đại diện cho số liệu kiểu i-Speed; ≥ ${rules.minAgents} máy đo cho số liệu theo máy đo; ≥ ${rules.minBusyHourSamplesPerAgent} mẫu đại diện giờ hành chính mỗi máy đo cho chỉ số 80/80`],
      ...levelNotesVi(q.level).map((n, i): [string, string] => [`Lưu ý ${i + 1}`, n])
    ]
    return await sendTable(reply, q.format, [areaTable(title, report.rows, notes)], `tocdo-${q.level}-${q.province ?? 'all'}-${period.to ?? 'all'}${q.split === undefined ? '' : `-${q.split}`}`, opts.sample)
  })

  fastify.get('/api/v1/reports/overview', {
    schema: {
      tags: ['reports'],
      summary: 'Province overview: totals with targets, by connection class, lagging sub-areas, 12-month medians',
      querystring: Type.Object({
        province: ProvinceParam,
        version: Type.Optional(Type.Union([Type.Literal('2025-07'), Type.Literal('2025-03')], { default: '2025-07' })),
        period: Type.Optional(PeriodParam),
        end: Type.Optional(EndParam)
      }),
      response: { 200: OverviewReportSchema, ...errors }
    }
  }, async (request) => {
    const q = request.query as { province: string, version?: '2025-07' | '2025-03', period?: string, end?: string }
    return await overviewReport(fastify.stores, { province: q.province, version: q.version ?? '2025-07', period: parsePeriod(q.period, q.end, 'rolling12'), rules })
  })

  fastify.get('/api/v1/reports/trend', {
    schema: {
      tags: ['reports'],
      summary: 'Monthly series of one area for charts',
      querystring: Type.Object({
        level: LevelParam,
        code: AreaCodeParam,
        months: Type.Optional(Type.Integer({ minimum: 1, maximum: 36, default: 12 })),
        end: Type.Optional(EndParam),
        split: Type.Optional(SplitParam)
      }),
      response: { 200: TrendReportSchema, ...errors }
    }
  }, async (request) => {
    const q = request.query as { level: Level, code: string, months?: number, end?: string, split?: Split }
    return await trendReport(fastify.stores, { level: q.level, code: q.code, months: q.months ?? 12, end: q.end, split: q.split, rules })
  })

  fastify.get('/api/v1/reports/distribution', {
    schema: {
      tags: ['reports'],
      summary: 'Histogram of representative samples of one area, with the targets that apply',
      querystring: Type.Object({
        level: LevelParam,
        code: AreaCodeParam,
        period: Type.Optional(PeriodParam),
        end: Type.Optional(EndParam),
        metric: Type.Optional(Type.Union([Type.Literal('download'), Type.Literal('upload')], { default: 'download' })),
        connection_class: Type.Optional(Type.Union(['fixed', '4g', '5g', 'leased_line'].map((c) => Type.Literal(c))))
      }),
      response: { 200: DistributionReportSchema, ...errors }
    }
  }, async (request) => {
    const q = request.query as { level: Level, code: string, period?: string, end?: string, metric?: 'download' | 'upload', connection_class?: string }
    return await distributionReport(fastify.stores, { level: q.level, code: q.code, period: parsePeriod(q.period, q.end, 'rolling12'), metric: q.metric ?? 'download', connectionClass: q.connection_class, rules })
  })

  fastify.get('/api/v1/reports/agencies/:id', {
    schema: {
      tags: ['reports'],
      summary: 'One agency: placement, agents, recent results, targets, QCVN 34 / 126 indicative checks. Agents appear by a short id; with the admin token, by full id and machine name',
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }),
      querystring: Type.Object({ period: Type.Optional(PeriodParam), end: Type.Optional(EndParam) }),
      response: { 200: AgencyReportSchema, ...errors }
    }
  }, async (request) => {
    const { id } = request.params as { id: string }
    const q = request.query as { period?: string, end?: string }
    // Machine names and full agent ids only for the admin (issue 11); a wrong token is a 401, not a quiet public view.
    const admin = request.headers.authorization !== undefined
    if (admin) await fastify.requireAdmin(request)
    const report = await agencyReport(fastify.stores, id, { period: parsePeriod(q.period, q.end, 'rolling12'), rules })
    return admin ? report : publicAgencyReport(report)
  })
}
