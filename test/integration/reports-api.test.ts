import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import ExcelJS from 'exceljs'
import { addAgencyWithAgent, startTempCollector, type TempCollector } from '../helpers/temp-collector.js'
import { backends } from '../helpers/stores.js'
import { sampleAgency } from '../helpers/fleet-client.js'
import { record } from '../collector/report-fixtures.js'
import { loadCollectorConfig } from '../../collector/config.js'

/*
 * The report API on a real collector (port 0): results arrive through POST /api/v1/results,
 * the ingest listener keeps the rollups, and every endpoint of docs/reports-api.md answers.
 */
describe.each(backends)('reports API over HTTP ($name)', (backend) => {
  let c: TempCollector
  let agencyId: string

  const get = async (path: string): Promise<{ status: number, type: string, text: string, buf: Buffer, json: () => any }> => {
    const r = await request(`${c.url}${path}`)
    const buf = Buffer.from(await r.body.arrayBuffer())
    return { status: r.statusCode, type: String(r.headers['content-type']), text: buf.toString('utf8'), buf, json: () => JSON.parse(buf.toString('utf8')) }
  }

  beforeAll(async () => {
    c = await startTempCollector({}, { backend })
    // Kon Tum city, district 608
    const { agencyId: id, token } = await addAgencyWithAgent(c, sampleAgency({ name: 'UBND phường Kon Tum (thử nghiệm)' }))
    agencyId = id
    // Oct 2026: two tests in the 09:00 hour (one sample, median 250) and one at 14:00 (300).
    const results = [
      record({ at: '2026-10-05 09:05', down: 200, up: 100, idle: 10 }),
      record({ at: '2026-10-05 09:35', down: 300, up: 120, idle: 12 }),
      record({ at: '2026-10-06 14:00', down: 300, up: 150, idle: 9 }),
      record({ at: '2026-10-07 09:00', kind: 'skip' })
    ]
    const r = await request(`${c.url}/api/v1/results`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ results }) })
    expect(r.statusCode).toBe(200)
    await r.body.dump()
  })
  afterAll(async () => { await c?.close() })

  it('report GETs only read; the month-pack job the collector registers packs the closed months, and the figures stay the same', async () => {
    const missing = async (): Promise<string[]> => (await c.app.stores.rollups.monthPacksMissing(Date.now())).map((k) => `${k.month}|${k.scope}|${k.code}`).sort()
    // The start-up run found no rows (it runs as the collector becomes ready, before any result): October is closed and unpacked.
    const before = await missing()
    expect(before).toContain('2026-10|legacy_province_code|62')
    const paths = ['/api/v1/reports/districts?province=62&period=2026-10', '/api/v1/reports/areas?level=commune&province=51&period=rolling12&end=2026-10', '/api/v1/reports/overview?province=51&period=2026-10']
    const strip = (j: any): unknown => ({ ...j, generatedAt: undefined })
    const fromRows = await Promise.all(paths.map(async (p) => strip((await get(p)).json())))
    expect(await missing()).toEqual(before) // no GET built a pack
    expect(await c.app.buildMonthPacks()).toBe(before.length)
    expect(await missing()).toEqual([])
    const fromPacks = await Promise.all(paths.map(async (p) => strip((await get(p)).json())))
    expect(fromPacks).toEqual(fromRows)
  })

  it('keeps the issue-2 district contract, now from the rollups', async () => {
    const r = await get('/api/v1/reports/districts?province=62')
    expect(r.status).toBe(200)
    const d = r.json().districts.find((x: any) => x.districtCode === '608')
    expect(d).toMatchObject({ agents: 1, results: 3, validResults: 3, downloadMeanMbps: 275, downloadMedianMbps: 275 }) // samples 250, 300
    expect(d.coverage).toMatchObject({ skipped: 1, representativeSamples: 2, agentsReporting: 1, agentsEnrolled: 1 })
    expect(d.figures.downloadMean).toEqual({ value: null, n: 2, minN: 300, basis: 'representative_samples', status: 'insufficient_data' })
  })

  it('areas by commune (2025-07) and by legacy district with a split and a period', async () => {
    const communes = (await get('/api/v1/reports/areas?level=commune&province=51&period=2026-10')).json()
    expect(communes.version).toBe('2025-07')
    const row = communes.rows.find((x: any) => x.coverage.representativeSamples > 0)
    expect(row.area.code).toBe('23293') // Phường Kon Tum
    expect(communes.rules).toMatchObject({ minRepresentativeSamples: 300, minAgents: 5 })
    const split = (await get('/api/v1/reports/areas?level=legacy_district&province=62&code=608&period=rolling12&end=2026-10&split=time_band')).json()
    expect(split.period).toMatchObject({ kind: 'rolling12', from: '2025-11', to: '2026-10' })
    expect(split.rows.map((x: any) => x.split?.value ?? null)).toEqual([null, 'office'])
    const none = (await get('/api/v1/reports/areas?level=legacy_district&province=62&code=608&period=2026-09')).json()
    expect(none.rows[0].coverage.results).toBe(0)
  })

  it('publishes a figure the default minimums withhold when the deployment configures lower ones', async () => {
    expect(loadCollectorConfig({ env: { TOCDO_REPORT_MIN_REPRESENTATIVE_SAMPLES: '2', TOCDO_REPORT_MIN_AGENTS: '1', TOCDO_REPORT_MIN_BUSY_HOUR_SAMPLES_PER_AGENT: '1' } }))
      .toMatchObject({ reportMinRepresentativeSamples: 2, reportMinAgents: 1, reportMinBusyHourSamplesPerAgent: 1 })
    expect(() => loadCollectorConfig({ env: { TOCDO_REPORT_MIN_AGENTS: '0' } })).toThrow(/reportMinAgents \(from environment variable TOCDO_REPORT_MIN_AGENTS\)/)
    const low = await startTempCollector({ reportMinRepresentativeSamples: 2, reportMinAgents: 1, reportMinBusyHourSamplesPerAgent: 1 }, { backend })
    try {
      const { token } = await addAgencyWithAgent(low, sampleAgency({ name: 'UBND phường Kon Tum (thử nghiệm)' }))
      const results = [record({ at: '2026-10-05 09:05', down: 200, up: 100, idle: 10 }), record({ at: '2026-10-06 14:00', down: 300, up: 150, idle: 9 })]
      const post = await request(`${low.url}/api/v1/results`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ results }) })
      expect(post.statusCode).toBe(200)
      await post.body.dump()
      const path = '/api/v1/reports/areas?level=legacy_district&province=62&code=608&period=2026-10'
      const r = await request(`${low.url}${path}`)
      const configured = await r.body.json() as any
      expect(configured.rules).toMatchObject({ minRepresentativeSamples: 2, minAgents: 1, minBusyHourSamplesPerAgent: 1 })
      expect(configured.rows[0].figures.downloadMean).toEqual({ value: 250, n: 2, minN: 2, basis: 'representative_samples', status: 'ok' })
      expect(configured.rows[0].figures.agentMedianOfMedians).toMatchObject({ value: 250, n: 1, minN: 1, status: 'ok' })
      const byDefault = (await get(path)).json()
      expect(byDefault.rows[0].figures.downloadMean).toMatchObject({ value: null, minN: 300, status: 'insufficient_data' })
      // The export route gets the same rules: its CSV prints the figure, not "insufficient data".
      const csv = await request(`${low.url}${path}&format=csv`)
      const text = await csv.body.text()
      expect(text.split('\r\n').find((l) => l.includes(',608,'))).not.toContain('chưa đủ dữ liệu')
      const wb = await request(`${low.url}/api/v1/exports/province.xlsx?province=62&version=2025-03&period=2026-10`)
      expect(wb.statusCode).toBe(200)
      const book = new ExcelJS.Workbook()
      await book.xlsx.load(Buffer.from(await wb.body.arrayBuffer()) as unknown as ExcelJS.Buffer)
      const notes = JSON.stringify(book.getWorksheet('Ghi chú')!.getSheetValues())
      expect(notes).toContain('≥ 2 mẫu đại diện')
    } finally {
      await low.close()
    }
  })

  it('answers bad parameters with the field and the fix', async () => {
    const bad = await get('/api/v1/reports/areas?level=commune&province=62&period=2026-13')
    expect(bad.status).toBe(400)
    expect(bad.json()).toMatchObject({ code: 'TOCDO_ERR_VALIDATION', field: 'querystring/period' })
    const unknown = await get('/api/v1/reports/areas?level=commune&province=99')
    expect(unknown.status).toBe(404)
    expect(unknown.json()).toMatchObject({ code: 'TOCDO_ERR_UNKNOWN_AREA', field: 'province' })
    const missing = await get('/api/v1/reports/areas?level=legacy_district')
    expect(missing.json()).toMatchObject({ code: 'TOCDO_ERR_VALIDATION', field: 'province' })
  })

  it('CSV is UTF-8 with a BOM and Vietnamese headings; XLSX has one sheet per report plus notes', async () => {
    const csv = await get('/api/v1/reports/areas?level=legacy_district&province=62&period=2026-10&format=csv')
    expect(csv.status).toBe(200)
    expect(csv.type).toContain('text/csv')
    expect([...csv.buf.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
    const lines = csv.text.slice(1).split('\r\n')
    expect(lines[0]).toContain('Tải xuống – trung bình (Mb/s)')
    expect(lines[0]).toContain('Số mẫu đại diện')
    expect(lines.find((l) => l.includes(',608,'))).toContain('chưa đủ dữ liệu')
    // An ISP name typed as a formula is exported as text. (Written through a connection of the test's
    // own, as another process would: the report cache notices it, through data_version on SQLite and
    // the rollup_change trigger on PostgreSQL.)
    await c.db.exec("UPDATE rollup_agent_month SET isp = '=HYPERLINK(\"http://x\")'")
    const split = await get('/api/v1/reports/areas?level=legacy_district&province=62&code=608&period=2026-10&split=isp&format=csv')
    expect(split.text).toContain('"\'=HYPERLINK(""http://x"")"')
    await c.db.exec("UPDATE rollup_agent_month SET isp = 'VNPT'")
    const x = await get('/api/v1/reports/areas?level=legacy_district&province=62&period=2026-10&format=xlsx')
    expect(x.type).toContain('spreadsheetml')
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.load(x.buf as unknown as ExcelJS.Buffer)
    expect(wb.worksheets.map((w) => w.name)).toEqual(['Theo huyện cũ 62', 'Ghi chú'])
    expect(wb.worksheets[0]!.getRow(1).getCell(3).value).toBe('Tên vùng')
    expect(wb.worksheets[0]!.rowCount).toBe(11) // heading + 10 old districts of Kon Tum
  })

  it('the province workbook has one sheet per report', async () => {
    const x = await get('/api/v1/exports/province.xlsx?province=62&version=2025-03&period=2026-10')
    expect(x.status).toBe(200)
    expect(x.type).toContain('spreadsheetml')
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.load(x.buf as unknown as ExcelJS.Buffer)
    expect(wb.worksheets.map((w) => w.name)).toEqual(['Tổng hợp theo loại kết nối', 'Theo nhà mạng', 'Theo khung giờ', 'Theo huyện cũ', 'Ghi chú'])
    // Province row plus the fixed-line split; the VNPT row; office band only.
    expect(wb.getWorksheet('Tổng hợp theo loại kết nối')!.rowCount).toBe(3)
    expect(wb.getWorksheet('Theo khung giờ')!.getRow(3).getCell(6).value).toBe('Giờ hành chính')
  })

  it('overview, trend, distribution and the agency page', async () => {
    const o = (await get('/api/v1/reports/overview?province=62&version=2025-03&period=2026-10')).json()
    expect(o.total.area).toMatchObject({ level: 'legacy_province', code: '62' })
    expect(o.agencies).toEqual({ enrolled: 1, reporting: 1 })
    expect(o.months).toHaveLength(12)
    const t = (await get('/api/v1/reports/trend?level=legacy_district&code=608&months=3&end=2026-11')).json()
    expect(t.months).toEqual(['2026-09', '2026-10', '2026-11'])
    expect(t.series[0].points.map((p: any) => p.coverage.representativeSamples)).toEqual([0, 2, 0])
    const dist = (await get('/api/v1/reports/distribution?level=commune&code=23293&period=2026-10')).json()
    expect(dist.n).toBe(2)
    expect(dist.bins.find((b: any) => b.fromMbps === 200).count).toBe(1) // 250
    expect(dist.bins.find((b: any) => b.fromMbps === 300).count).toBe(1) // 300 sits on the edge, counted above it
    const a = (await get(`/api/v1/reports/agencies/${agencyId}?period=2026-10`)).json()
    expect(a.agency.placement.legacyDistrict).toMatchObject({ code: '608' })
    expect(a.recentResults).toHaveLength(4)
    // QCVN 34 uses the mean of per-test speeds: down (200 + 300 + 300) / 3 = 266.67 >= 240 but up
    // (100 + 120 + 150) / 3 = 123.33 < 0.8 x 300: fails, and only indicative on 3 of 1,000 tests.
    expect(a.qcvn34[0]).toMatchObject({ applies: true, tests: 3, meanDownMbps: 266.67, meanUpMbps: 123.33, requiredDownMbps: 240, requiredUpMbps: 240, pass: false, indicative: true, enoughTests: false })
    expect(a.targets.map((x: any) => x.targetId)).toContain('kt2391-2025-organisation')
    expect((await get('/api/v1/reports/agencies/nope')).status).toBe(404)
  })

  it('geography pickers', async () => {
    expect((await get('/api/v1/geo/provinces?version=2025-03')).json().provinces).toHaveLength(63)
    expect((await get('/api/v1/geo/provinces')).json().provinces).toHaveLength(34)
    expect((await get('/api/v1/geo/districts?province=62')).json().districts).toHaveLength(10)
    const src = (await get('/api/v1/geo/communes/23293/sources')).json()
    expect(src.sources.map((s: any) => s.code)).toContain('23281')
  })

  it('serves the OpenAPI document and Swagger UI from local assets at /docs', async () => {
    const spec = (await get('/docs/json')).json()
    expect(spec.openapi).toMatch(/^3\./)
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/api/v1/reports/areas', '/api/v1/reports/districts', '/api/v1/geo/provinces', '/api/v1/reports/agencies/{id}']))
    const page = await get('/docs/')
    expect(page.status).toBe(200)
    expect(page.text).not.toMatch(/https?:\/\/(cdn|unpkg)/)
    const bundle = await get('/docs/static/swagger-ui-bundle.js')
    expect(bundle.status).toBe(200)
    expect(bundle.buf.length).toBeGreaterThan(100_000)
  })
})
