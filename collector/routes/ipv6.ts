import type { FastifyInstance } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox'
import type { Logger } from 'pino'
import type { CollectorConfig } from '../config.js'
import { API_PREFIX } from '../../shared/protocol.js'
import { TocdoError } from '../../shared/errors.js'
import type { ProbeContext } from '../ipv6/checks.js'
import { runProbeCycle, type CycleOutcome } from '../ipv6/prober.js'
import { probeContextFromConfig } from '../ipv6/prober-job.js'
import { setAgencyServices } from '../ipv6/service-store.js'
import { IPV6_REPORT_LEVELS, ipv6Report, type Ipv6ReportLevel } from '../ipv6/report.js'
import { ipv6Table } from '../ipv6/table.js'
import { sendTable } from '../exports/send-table.js'

export const IPV6_PATHS = {
  report: `${API_PREFIX}/reports/ipv6`,
  services: `${API_PREFIX}/admin/agencies/:id/services`,
  probe: `${API_PREFIX}/admin/ipv6/probe`
} as const

const HostName = Type.Union([Type.Null(), Type.String({ maxLength: 253, pattern: '^[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\\.?$' })])
export const AgencyServicesBody = Type.Object({
  portalHost: HostName,
  publicServiceHost: HostName,
  mailDomain: HostName,
  dnsZone: Type.Optional(HostName)
}, { additionalProperties: false })
type AgencyServicesBody = Static<typeof AgencyServicesBody>

/**
 * The IPv6 migration report, the agencies' service names (admin) and a prober run on demand
 * (the scheduled runs are the job in ipv6/prober-job.ts).
 */
export async function ipv6Routes (fastify: FastifyInstance, opts: { config: Readonly<CollectorConfig>, probe?: ProbeContext }): Promise<void> {
  const { config } = opts
  const { ipv6 } = fastify.stores
  const log = fastify.log.child({ component: 'ipv6-prober' }) as unknown as Logger
  let context: ProbeContext | null = opts.probe ?? null
  const probeContext = (): ProbeContext => { context ??= probeContextFromConfig(config); return context }
  const runCycle = async (): Promise<CycleOutcome> =>
    await runProbeCycle(ipv6, probeContext(), { concurrency: config.ipv6ProbeConcurrency, log })

  fastify.get(IPV6_PATHS.report, {
    schema: {
      querystring: Type.Object({
        level: Type.Union(IPV6_REPORT_LEVELS.map((l) => Type.Literal(l))),
        province: Type.Optional(Type.String({ pattern: '^[0-9]{2}$' })),
        period: Type.Optional(Type.String({ maxLength: 10 })),
        format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv'), Type.Literal('xlsx')]))
      }, { additionalProperties: false })
    }
  }, async (request, reply) => {
    const q = request.query as { level: Ipv6ReportLevel, province?: string, period?: string, format?: 'json' | 'csv' | 'xlsx' }
    const report = await ipv6Report(fastify.stores, { level: q.level, province: q.province, period: q.period })
    if (q.format === undefined || q.format === 'json') return report
    return await sendTable(reply, q.format, [ipv6Table(report)], `tocdo-ipv6-${q.level}${q.province === undefined ? '' : `-${q.province}`}-${report.period.id}`, opts.config.sampleData)
  })

  await fastify.register(async (admin) => {
    admin.addHook('onRequest', fastify.requireAdmin)
    // Strict like every other route: Fastify's Ajv would turn 12345 into "12345" and drop unknown properties (issue 11).
    admin.setValidatorCompiler(TypeBoxValidatorCompiler)
    const agencyOr404 = async (id: string): Promise<void> => {
      if (await fastify.stores.fleet.agencyById(id) === undefined) throw new TocdoError('TOCDO_ERR_NOT_FOUND', `agency ${id} does not exist`, { details: { field: 'id' } })
    }
    admin.put(IPV6_PATHS.services, {
      config: { audit: 'agency-services.set' },
      schema: { params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }), body: AgencyServicesBody }
    }, async (request) => {
      const { id } = request.params as { id: string }
      await agencyOr404(id)
      const body = request.body as AgencyServicesBody
      const saved = await setAgencyServices(ipv6, { agencyId: id, portalHost: body.portalHost, publicServiceHost: body.publicServiceHost, mailDomain: body.mailDomain, dnsZone: body.dnsZone ?? null })
      request.log.info({ agencyId: id, services: saved }, 'admin: agency services set')
      request.auditNote = { summary: { portalHost: saved.portalHost, publicServiceHost: saved.publicServiceHost, mailDomain: saved.mailDomain, dnsZone: saved.dnsZone } }
      return { ...saved, updatedAt: new Date(saved.updatedAt).toISOString() }
    })
    admin.get(IPV6_PATHS.services, {
      schema: { params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }) }
    }, async (request) => {
      const { id } = request.params as { id: string }
      await agencyOr404(id)
      const saved = await ipv6.services(id)
      if (saved === undefined) throw new TocdoError('TOCDO_ERR_NOT_FOUND', `agency ${id} has no services set; PUT them first`, { details: { field: 'id' } })
      return { ...saved, updatedAt: new Date(saved.updatedAt).toISOString(), latestRun: await ipv6.latestRun(id) }
    })
    // Runs a cycle now (after setting an agency's services, or to check a fix) and waits for it.
    admin.post(IPV6_PATHS.probe, { config: { audit: 'ipv6.probe' } }, async () => await runCycle())
  })
}
