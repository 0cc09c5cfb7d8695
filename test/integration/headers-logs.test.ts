import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { loadCollectorConfig } from '../../collector/config.js'
import { buildCollector } from '../../collector/server.js'
import { addAgency, call, enrol, sync, syncBody } from '../helpers/fleet-client.js'
import { latencyRecord } from '../fixtures/records.js'
import type { EnrollReply } from '../../shared/schemas/fleet.js'

/** Issue 11: security headers on every reply, no-store where a secret travels, nothing secret in the log. */
const ADMIN = 'headers-admin-token-0123456789abcdef'

describe('security headers and log redaction', () => {
  let app: FastifyInstance
  let url: string
  let dataDir: string
  const lines: string[] = []
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tocdo-headers-'))
    const config = loadCollectorConfig({ overrides: { host: '127.0.0.1', port: 0, dataDir, logLevel: 'info', adminToken: ADMIN } })
    app = await buildCollector(config, { logStream: { write: (line: string) => { lines.push(line) } } })
    url = await app.listen({ host: '127.0.0.1', port: 0 })
  })
  afterAll(async () => {
    await app?.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('every reply, whatever the route or status, carries nosniff, a frame-ancestors CSP and Referrer-Policy', async () => {
    for (const path of ['/api/v1/health', '/dashboard/', '/dashboard/js/app.js', '/docs', '/docs/json', '/api/v1/reports/overview?province=62',
      '/api/v1/reports/overview?province=62&end=9999-12', '/no-such-route', '/api/v1/admin/agents', '/api/v1/geo/provinces', '/.well-known/tocdo']) {
      const r = await call(`${url}${path}`, {})
      expect(r.headers['x-content-type-options'], path).toBe('nosniff')
      expect(r.headers['referrer-policy'], path).toBe('no-referrer')
      expect(String(r.headers['content-security-policy']), path).toContain("frame-ancestors 'none'")
    }
    // The dashboard and /docs have a full policy of their own.
    for (const path of ['/dashboard/', '/docs']) {
      expect(String((await call(`${url}${path}`, {})).headers['content-security-policy']), path).toContain("script-src 'self'")
    }
  })

  it('replies carrying a token or an enrolment code are never cached; public reports may be', async () => {
    const created = await call<{ enrolment: { code: string } }>(`${url}/api/v1/admin/agencies`, {
      method: 'POST',
      token: ADMIN,
      body: { name: 'UBND xã Đăk Hà (headers)', communeCode: '23281', scheme: '2025-03', category: 'organisation', connectionClass: 'fixed', isp: 'VNPT', planDownMbps: 300, planUpMbps: 300 }
    })
    expect(created.status).toBe(200)
    expect(created.headers['cache-control']).toBe('no-store')
    const enrolled = await enrol(url, created.body.enrolment.code, 'pc-headers')
    expect(enrolled.status).toBe(200)
    expect(enrolled.headers['cache-control']).toBe('no-store')
    const codes = await call(`${url}/api/v1/admin/agencies/${(await addAgency(url, ADMIN)).agency.id}/enrolment-codes`, { method: 'POST', token: ADMIN })
    expect(codes.headers['cache-control']).toBe('no-store')
    const s = await sync(url, enrolled.body.token, syncBody(enrolled.body.agentId, [latencyRecord()]))
    expect(s.headers['cache-control']).toBe('no-store')
    expect((await call(`${url}/api/v1/geo/provinces`, {})).headers['cache-control']).toBeUndefined()
  })

  it('the log holds no token, enrolment code or query string', async () => {
    const { enrolment } = await addAgency(url, ADMIN)
    const reply = await enrol(url, enrolment.code, 'pc-log')
    const { token } = reply.body as EnrollReply
    await call(`${url}/api/v1/health?token=${token}&admin=${ADMIN}`, {})
    await call(`${url}/api/v1/reports/overview?province=62&token=${token}`, {})
    await call(`${url}/api/v1/admin/agents?access_token=${ADMIN}`, { token: ADMIN })
    await sync(url, token, syncBody((reply.body as EnrollReply).agentId, []))
    await app.close().then(() => {}, () => {})
    const log = lines.join('')
    expect(log).toContain('incoming request') // the log was written at all
    expect(log).toContain('/api/v1/health?[redacted]')
    for (const secret of [token, ADMIN, enrolment.code]) expect(lines.filter((l) => l.includes(secret)), secret).toEqual([])
  })
})
