import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { officialReport } from '../reports/official-report.js'
import { officialDocx } from '../reports/document/docx.js'
import { officialPdf } from '../reports/document/pdf.js'
import { parsePeriod } from '../../shared/period.js'
import { DEFAULT_REPORT_RULES, type ReportRules } from '../reports/rules.js'
import { EndParam, ErrorSchema, OfficialReportSchema, PeriodParam, ProvinceParam } from '../reports/schemas.js'

export const OFFICIAL_REPORT_PATH = '/api/v1/reports/official'

export interface OfficialReportRoutesOptions {
  rules?: Partial<ReportRules>
  /** The issuing body printed in the header (TOCDO_DEPARTMENT_NAME). */
  departmentName: string
  /** The database holds generated sample data: every document says so. */
  sample?: boolean
}

/**
 * GET /api/v1/reports/official (docs/official-report.md): the official report of a province,
 * current (2025-07) or former (2025-03), for a period, as JSON, a Word document or a PDF. The
 * three are made from one report object, so their numbers cannot differ.
 */
export async function officialReportRoutes (fastify: FastifyInstance, opts: OfficialReportRoutesOptions): Promise<void> {
  const rules: ReportRules = { ...DEFAULT_REPORT_RULES, ...opts.rules }
  fastify.get(OFFICIAL_REPORT_PATH, {
    schema: {
      tags: ['reports'],
      summary: 'Official report of a province for a period (Nghị định 30/2020/NĐ-CP layout) as JSON, .docx or PDF',
      querystring: Type.Object({
        province: ProvinceParam,
        version: Type.Optional(Type.Union([Type.Literal('2025-07'), Type.Literal('2025-03')], { default: '2025-07' })),
        period: Type.Optional(PeriodParam),
        end: Type.Optional(EndParam),
        format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('docx'), Type.Literal('pdf')], { default: 'json' }))
      }),
      response: { 200: OfficialReportSchema, 400: ErrorSchema, 404: ErrorSchema }
    }
  }, async (request, reply) => {
    const q = request.query as { province: string, version?: '2025-07' | '2025-03', period?: string, end?: string, format?: 'json' | 'docx' | 'pdf' }
    const version = q.version ?? '2025-07'
    const period = parsePeriod(q.period, q.end, 'rolling12')
    const report = await officialReport(fastify.stores, { province: q.province, version, period, rules, departmentName: opts.departmentName, sample: opts.sample })
    const format = q.format ?? 'json'
    if (format === 'json') return report
    const name = `bao-cao-toc-do-${version}-${q.province}-${period.to ?? 'all'}${opts.sample === true ? '-du-lieu-mau' : ''}.${format}`
    void reply.header('content-disposition', `attachment; filename="${name}"`)
    if (format === 'docx') {
      void reply.type('application/vnd.openxmlformats-officedocument.wordprocessingml.document')
      return await officialDocx(report)
    }
    void reply.type('application/pdf')
    return await officialPdf(report)
  })
}
