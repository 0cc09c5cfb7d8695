import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { addAgencyWithAgent, startTempCollector, type TempCollector } from '../helpers/temp-collector.js'
import { sampleAgency } from '../helpers/fleet-client.js'
import { record } from '../collector/report-fixtures.js'
import { Value } from '@sinclair/typebox/value'
import type { TSchema } from '@sinclair/typebox'
import { FIGURES } from '../../collector/reports/figure-registry.js'
import {
  AgencyReportSchema, AreasReportSchema, DistributionReportSchema, DistrictReportSchema, OfficialReportSchema, OverviewReportSchema, ReportsMetaSchema, TrendReportSchema
} from '../../collector/reports/schemas.js'

/*
 * GET /api/v1/reports/meta on a real collector (port 0): the figure registry, with the
 * publication minimums this deployment configured, and the same figures in every report and
 * export the collector serves.
 */
describe('reports meta over HTTP', () => {
  let c: TempCollector
  let agencyId: string

  const get = async (path: string): Promise<{ status: number, type: string, text: string }> => {
    const r = await request(`${c.url}${path}`)
    return { status: r.statusCode, type: String(r.headers['content-type']), text: await r.body.text() }
  }

  beforeAll(async () => {
    c = await startTempCollector({ reportMinRepresentativeSamples: 2, reportMinAgents: 3 })
    const { token, agencyId: id } = await addAgencyWithAgent(c, sampleAgency({ name: 'UBND phường Kon Tum (thử nghiệm)' }))
    agencyId = id
    const results = [record({ at: '2026-10-05 09:05', down: 200, up: 100, idle: 10 }), record({ at: '2026-10-06 14:00', down: 300, up: 150, idle: 9 })]
    const r = await request(`${c.url}/api/v1/results`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ results }) })
    expect(r.statusCode).toBe(200)
    await r.body.dump()
  })
  afterAll(async () => { await c?.close() })

  it('lists every registry figure with its unit, basis, the minimum in force, its views and names', async () => {
    const r = await get('/api/v1/reports/meta')
    expect(r.status).toBe(200)
    expect(r.type).toContain('application/json')
    const meta = JSON.parse(r.text) as { report: string, figures: any[] }
    expect(meta.report).toBe('meta')
    expect(meta.figures.map((f) => f.key)).toEqual(FIGURES.map((f) => f.key))
    const configured = { minRepresentativeSamples: 2, minAgents: 3 }
    for (const [i, f] of FIGURES.entries()) {
      expect(meta.figures[i]).toEqual({
        key: f.key,
        unit: f.unit,
        basis: f.basis,
        minimum: { rule: f.minimum, value: configured[f.minimum] },
        digits: f.digits,
        views: f.views,
        labelKey: `figure.${f.key}`,
        helpKey: `figureHelp.${f.key}`,
        label: f.label,
        help: f.help
      })
    }
    expect(meta.figures.find((f) => f.key === 'idleLatencyMedianMs')).toMatchObject({ unit: 'ms', minimum: { rule: 'minRepresentativeSamples', value: 2 } })
    expect(meta.figures.find((f) => f.key === 'busyHour8080')).toMatchObject({ basis: 'agents', minimum: { rule: 'minAgents', value: 3 } })
  })

  it('every area report row carries exactly the meta\'s figures, each published by its rule', async () => {
    const meta = JSON.parse((await get('/api/v1/reports/meta')).text) as { figures: any[] }
    const areas = JSON.parse((await get('/api/v1/reports/areas?level=legacy_district&province=62&code=608&period=2026-10')).text)
    const row = areas.rows[0]
    expect(Object.keys(row.figures)).toEqual(meta.figures.map((f) => f.key))
    for (const f of meta.figures) {
      expect(row.figures[f.key].basis, f.key).toBe(f.basis)
      expect(row.figures[f.key].minN, f.key).toBe(f.minimum.value)
    }
    // Two samples meet the configured 2; one agent does not meet 3.
    expect(row.figures.downloadMean).toEqual({ value: 250, n: 2, minN: 2, basis: 'representative_samples', status: 'ok' })
    expect(row.figures.agentMedianOfMedians).toMatchObject({ value: null, n: 1, minN: 3, status: 'insufficient_data' })
    const overview = JSON.parse((await get('/api/v1/reports/overview?province=62&version=2025-03&period=2026-10')).text)
    expect(Object.keys(overview.total.figures)).toEqual(meta.figures.map((f) => f.key))
  })

  it('the CSV export has the meta\'s figures as columns, named by their Vietnamese labels, in its order', async () => {
    const meta = JSON.parse((await get('/api/v1/reports/meta')).text) as { figures: any[] }
    const csv = await get('/api/v1/reports/areas?level=legacy_district&province=62&code=608&period=2026-10&format=csv')
    expect(csv.status).toBe(200)
    const header = (csv.text.replace(/^\uFEFF/, '').split('\r\n').find((l) => l.includes('Mã vùng')) ?? '').split(',').map((h) => h.replace(/^"|"$/g, ''))
    const unit = { mbps: 'Mb/s', ms: 'ms' } as Record<string, string>
    const names = meta.figures.map((f) => `${f.label.vi} (${unit[f.unit] as string})`)
    expect(header.filter((h) => names.includes(h))).toEqual(names)
  })

  it('the official report\'s key figures are the meta\'s headline figures, with their Vietnamese names', async () => {
    const meta = JSON.parse((await get('/api/v1/reports/meta')).text) as { figures: any[] }
    const official = JSON.parse((await get('/api/v1/reports/official?province=62&version=2025-03&period=2026-10')).text)
    const headline = meta.figures.filter((f) => f.views.includes('headline'))
    expect(official.headline.map((f: any) => [f.key, f.name])).toEqual(headline.map((f) => [f.key, f.label.vi]))
  })

  it('every report reply, as served, is what its TypeBox schema says', async () => {
    const replies: Array<[string, TSchema]> = [
      ['/api/v1/reports/meta', ReportsMetaSchema],
      ['/api/v1/reports/areas?level=legacy_district&province=62&period=2026-10&split=time_band', AreasReportSchema],
      ['/api/v1/reports/districts?province=62&period=2026-10', DistrictReportSchema],
      ['/api/v1/reports/overview?province=62&version=2025-03&period=2026-10', OverviewReportSchema],
      ['/api/v1/reports/overview?province=51&period=2026-10', OverviewReportSchema],
      ['/api/v1/reports/trend?level=legacy_district&code=608&end=2026-10&split=connection_class', TrendReportSchema],
      ['/api/v1/reports/distribution?level=legacy_district&code=608&period=2026-10', DistributionReportSchema],
      [`/api/v1/reports/agencies/${agencyId}?period=2026-10`, AgencyReportSchema],
      ['/api/v1/reports/official?province=62&version=2025-03&period=2026-10', OfficialReportSchema]
    ]
    for (const [path, schema] of replies) {
      const r = await get(path)
      expect(r.status, path).toBe(200)
      const body = JSON.parse(r.text) as unknown
      expect([...Value.Errors(schema, body)].map((e) => `${e.path}: ${e.message}`), path).toEqual([])
    }
    // The agency reply as served carries the line's own figures and its QCVN checks, every registry figure in each.
    const agency = JSON.parse((await get(`/api/v1/reports/agencies/${agencyId}?period=2026-10`)).text)
    expect(agency.agents).toHaveLength(1)
    expect(Object.keys(agency.agents[0].figures)).toEqual(FIGURES.map((f) => f.key))
    expect(agency.agents[0].name).toBeUndefined()
    expect(agency.qcvn34[0]).toMatchObject({ sampleDefinition: 'whole_transfer', indicative: true })
  })
})
