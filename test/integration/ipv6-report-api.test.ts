import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadCollectorConfig } from '../../collector/config.js'
import { buildCollector } from '../../collector/server.js'
import { startTempCollector, type TempCollector } from '../helpers/temp-collector.js'
import { vnMonth } from '../../shared/vn-time.js'
import { startDnsServer, type DnsTestServer, type Rr } from '../helpers/dns-server.js'

const ADMIN = 'ipv6-test-admin-token-0123456789'

// Names with no AAAA anywhere: every check is decided from DNS alone, so the run through the
// collector makes no connection outside loopback.
const records: Rr[] = [
  { type: 'SOA', name: 'kontum.test', ttl: 3600, data: { mname: 'ns1.kontum.test', rname: 'hostmaster.kontum.test', serial: 1, refresh: 3600, retry: 600, expire: 86_400, minimum: 300 } },
  { type: 'NS', name: 'kontum.test', ttl: 3600, data: 'ns1.kontum.test' },
  { type: 'A', name: 'ns1.kontum.test', ttl: 300, data: '127.0.0.1' },
  { type: 'A', name: 'www.kontum.test', ttl: 300, data: '127.0.0.1' },
  { type: 'A', name: 'dichvucong.kontum.test', ttl: 300, data: '127.0.0.1' },
  { type: 'MX', name: 'kontum.test', ttl: 300, data: { preference: 10, exchange: 'mail.kontum.test' } },
  { type: 'A', name: 'mail.kontum.test', ttl: 300, data: '127.0.0.1' }
]

let dns: DnsTestServer
let c: TempCollector
let agencyId: string

async function call (path: string, { method = 'GET', token, body }: { method?: string, token?: string, body?: unknown } = {}): Promise<{ status: number, headers: Headers, bytes: Buffer, text: string, json: () => any }> {
  const res = await fetch(`${c.url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const bytes = Buffer.from(await res.arrayBuffer())
  const text = bytes.toString('utf8')
  return { status: res.status, headers: res.headers, bytes, text, json: () => JSON.parse(text) }
}

beforeAll(async () => {
  dns = await startDnsServer({ records, zones: ['kontum.test'] })
  c = await startTempCollector({ adminToken: ADMIN, ipv6ProbeIntervalMin: 0, ipv6ProbeResolver: `[::1]:${dns.port}`, ipv6ProbeTimeoutMs: 500 })
  const commune = (await c.app.stores.geo.communes('2025-03', '62', '608'))[0]?.code
  const added = await call('/api/v1/admin/agencies', {
    method: 'POST',
    token: ADMIN,
    body: { name: 'Sở KH&CN Kon Tum', communeCode: commune, scheme: '2025-03', category: 'organisation', connectionClass: 'fixed', isp: 'VNPT', planDownMbps: null, planUpMbps: null }
  })
  expect(added.status, added.text).toBe(200)
  agencyId = added.json().agency.id
})

afterAll(async () => {
  await c.close()
  await dns.close()
})

describe('agency services (admin)', () => {
  const services = { portalHost: 'WWW.kontum.test.', publicServiceHost: 'dichvucong.kontum.test', mailDomain: 'kontum.test' }

  it('needs the admin token', async () => {
    expect((await call(`/api/v1/admin/agencies/${agencyId}/services`, { method: 'PUT', body: services })).status).toBe(401)
    expect((await call(`/api/v1/admin/agencies/${agencyId}/services`, { method: 'PUT', token: 'wrong-token-0123456789', body: services })).status).toBe(401)
  })

  it('rejects a bad host name naming the field, and an unknown agency', async () => {
    const bad = await call(`/api/v1/admin/agencies/${agencyId}/services`, { method: 'PUT', token: ADMIN, body: { ...services, portalHost: 'http://kontum.test/' } })
    expect(bad.status).toBe(400)
    expect(bad.json().field).toMatch(/portalHost/)
    const missing = await call('/api/v1/admin/agencies/no-such-agency/services', { method: 'PUT', token: ADMIN, body: services })
    expect(missing.status).toBe(404)
  })

  it('stores the names normalised and returns them', async () => {
    const put = await call(`/api/v1/admin/agencies/${agencyId}/services`, { method: 'PUT', token: ADMIN, body: services })
    expect(put.status, put.text).toBe(200)
    expect(put.json()).toMatchObject({ portalHost: 'www.kontum.test', publicServiceHost: 'dichvucong.kontum.test', mailDomain: 'kontum.test', dnsZone: null })
    const got = await call(`/api/v1/admin/agencies/${agencyId}/services`, { token: ADMIN })
    expect(got.json()).toMatchObject({ portalHost: 'www.kontum.test', latestRun: [] })
  })
})

describe('probe run and report over HTTP', () => {
  it('runs the prober through the collector and reports every check red', async () => {
    const run = await call('/api/v1/admin/ipv6/probe', { method: 'POST', token: ADMIN })
    expect(run.status, run.text).toBe(200)
    expect(run.json()).toEqual({ probed: 1, failed: [] })
    // the prober found the zone from the portal's SOA and asked our resolver
    expect(dns.queries.some((q) => q.name === 'www.kontum.test' && q.type === 'SOA')).toBe(true)

    // the report's months are Vietnam months
    const period = vnMonth(Date.now())
    const report = await call(`/api/v1/reports/ipv6?level=agency&province=51&period=${period}`)
    expect(report.status, report.text).toBe(200)
    const row = report.json().agencies.find((a: { agencyId: string }) => a.agencyId === agencyId)
    expect(Object.fromEntries(Object.entries(row.services).map(([k, v]) => [k, (v as { colour: string }).colour]))).toEqual({
      web_aaaa: 'red', https_v6: 'red', ns_v6: 'red', mx_v6: 'red', dnssec: 'red'
    })
    expect(row.level).toBe('none')
    const got = await call(`/api/v1/admin/agencies/${agencyId}/services`, { token: ADMIN })
    expect(got.json().latestRun).toHaveLength(7)
  })

  it('serves the area report as CSV with a BOM, and as XLSX', async () => {
    const res = await call('/api/v1/reports/ipv6?level=legacy_district&province=62&format=csv')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/)
    expect(res.headers.get('content-disposition')).toMatch(/tocdo-ipv6-legacy_district-62-\d{4}-\d{2}\.csv/)
    // fetch's text() would drop the BOM: check the bytes
    expect(res.bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]))
    expect(res.text.startsWith('\uFEFFKỳ,Cấp,Mã,Tên')).toBe(true)
    // one agency, level none (100 %), ready 0 %, no previous period, every check red
    expect(res.text).toMatch(/\r\n\d{4}-\d{2},Huyện cũ \(vùng phân tích\),608,[^,]+,1,0,0,0,0,0,0,1,100,0,0,0,,,0,1,0,1,0,1,0,1,0,1,0,/)
    const xlsx = await call('/api/v1/reports/ipv6?level=province&format=xlsx')
    expect(xlsx.status).toBe(200)
    expect(xlsx.headers.get('content-type')).toMatch(/spreadsheetml/)
    expect(xlsx.bytes.subarray(0, 2).toString('latin1')).toBe('PK')
  })

  it('names the field of a bad query', async () => {
    const level = await call('/api/v1/reports/ipv6?level=district')
    expect(level.status).toBe(400)
    expect(level.json().field).toMatch(/level/)
    const period = await call('/api/v1/reports/ipv6?level=province&period=2026-13')
    expect(period.status).toBe(400)
    expect(period.json()).toMatchObject({ code: 'TOCDO_ERR_VALIDATION', field: 'period' })
    expect((await call('/api/v1/reports/ipv6?level=legacy_province&province=99')).status).toBe(404)
  })
})

describe('the scheduled prober (a start-up job of the collector)', () => {
  it('refuses a start whose CA file cannot be read, naming the setting', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tocdo-prober-job-'))
    const config = loadCollectorConfig({ overrides: { host: '127.0.0.1', port: 0, dataDir, logLevel: 'warn', ipv6ProbeIntervalMin: 60, ipv6ProbeResolver: `[::1]:${dns.port}`, ipv6ProbeCaFile: join(dataDir, 'missing-ca.pem') } })
    const app = await buildCollector(config, { logger: false })
    try {
      await expect(app.ready()).rejects.toMatchObject({ code: 'TOCDO_ERR_CONFIG_INVALID', message: expect.stringContaining('ipv6ProbeCaFile') })
    } finally {
      await app.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
