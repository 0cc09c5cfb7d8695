import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnCollector, type CollectorProcess } from '../helpers/collector-process.js'
import { call, enrol, sampleAgency, validConfig } from '../helpers/fleet-client.js'
import { backends, type CollectorDatabase } from '../helpers/stores.js'
import type { AuditListReply, EnrolmentCodeView, NewAgencyReply } from '../../shared/schemas/fleet.js'

const run = promisify(execFile)

/**
 * The audit log of admin actions end to end (issue 11, docs/operations.md "Audit log"): a real
 * collector process behind a trusted "proxy" (the test itself, on 127.0.0.1), admin actions
 * through the real CLI and the real API, then the log read back through both.
 */
describe.each(backends)('audit log of admin actions on $name', (backend) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tocdo-audit-'))
  let db: CollectorDatabase | undefined
  const adminToken = randomBytes(32).toString('base64url')
  const fingerprint = `admin:${createHash('sha256').update(adminToken).digest('hex').slice(0, 16)}`
  let c: CollectorProcess
  /** Everything secret the actions handled: none may appear in an audit row. */
  const secrets: string[] = [adminToken]
  let agencyId = ''
  let agentId = ''
  let startedAt = 0

  const cli = async (args: string[]): Promise<{ stdout: string, stderr: string, code: number }> => {
    try {
      const r = await run(process.execPath, ['--import', 'tsx', 'collector/cli.ts', ...args], { env: { ...process.env, TOCDO_URL: c.url, TOCDO_ADMIN_TOKEN: adminToken } })
      return { ...r, code: 0 }
    } catch (err) {
      const e = err as { stdout: string, stderr: string, code: number }
      return { stdout: e.stdout, stderr: e.stderr, code: e.code }
    }
  }
  const admin = async <T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, from = '203.0.113.7'): Promise<{ status: number, body: T, headers: Record<string, string | string[] | undefined> }> =>
    await call<T>(`${c.url}${path}`, { method, token: adminToken, body, headers: { 'x-forwarded-for': from } })

  beforeAll(async () => {
    db = await backend.collectorDatabase(dataDir)
    c = await spawnCollector({ dataDir, env: { ...db.env, TOCDO_ADMIN_TOKEN: adminToken, TOCDO_TRUST_PROXY: '127.0.0.1', TOCDO_IPV6_PROBE_INTERVAL_MIN: '0' } })
    startedAt = Date.now()

    // Through the CLI (its requests come straight from 127.0.0.1).
    const add = await cli(['agency', 'add', '--name', 'UBND xã Ngọc Hồi (audit)', '--commune', '23281', '--scheme', '2025-03',
      '--connection-class', 'fixed', '--isp', 'Viettel', '--plan-down', '300', '--plan-up', '300'])
    expect(add.code, add.stderr).toBe(0)
    const code = /enrolment code: ([A-Z2-7]{16})/.exec(add.stdout)?.[1] as string
    agencyId = /^agency (\S+):/m.exec(add.stdout)?.[1] as string
    expect(code).toBeDefined()
    expect(agencyId).toBeDefined()
    secrets.push(code)

    // Through the API, from a client the trusted proxy names.
    const issued = await admin<EnrolmentCodeView>('POST', `/api/v1/admin/agencies/${agencyId}/enrolment-codes`)
    expect(issued.status).toBe(200)
    secrets.push(issued.body.code)
    const a = await enrol(c.url, issued.body.code, 'audit-pc')
    expect(a.status).toBe(200)
    agentId = a.body.agentId
    secrets.push(a.body.token)
    const second = await admin<NewAgencyReply>('POST', '/api/v1/admin/agencies', sampleAgency({ name: 'Trạm công cộng (audit)' }), '198.51.100.20')
    expect(second.status).toBe(200)
    secrets.push(second.body.enrolment.code)

    expect((await cli(['agent', 'revoke', agentId])).code).toBe(0)
    expect((await admin('PUT', '/api/v1/admin/config', validConfig())).status).toBe(200)
    expect((await admin('PUT', `/api/v1/admin/agencies/${agencyId}/services`, { portalHost: 'portal.example.invalid', publicServiceHost: null, mailDomain: 'mail.example.invalid' })).status).toBe(200)

    // Failing admin actions: a schema violation and an unknown target.
    const bad = await admin<{ field: string }>('PUT', '/api/v1/admin/config', validConfig({ maxSecondsPerDirection: 600 }))
    expect(bad.status).toBe(400)
    expect((await admin('POST', '/api/v1/admin/agents/no-such-agent/decommission')).status).toBe(404)
    // Refused at the token check: not an admin action, not recorded.
    expect((await call(`${c.url}/api/v1/admin/agents/${agentId}/decommission`, { method: 'POST', token: 'not-the-admin-token-0123456789' })).status).toBe(401)
  }, 120_000)
  afterAll(async () => {
    c?.proc.kill('SIGTERM')
    await c?.exited
    await db?.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('records who, what, when, from where and the outcome of each admin action, newest first', async () => {
    const r = await admin<AuditListReply>('GET', '/api/v1/admin/audit?limit=100')
    expect(r.status).toBe(200)
    expect(r.headers['cache-control']).toBe('no-store')
    const rows = r.body.entries.map(({ id: _id, at: _at, ...rest }) => rest)
    expect(rows).toEqual([
      { actor: fingerprint, via: 'api', action: 'agent.decommission', target: 'no-such-agent', summary: { error: 'TOCDO_ERR_NOT_FOUND' }, clientIp: '203.0.113.7', status: 404 },
      { actor: fingerprint, via: 'api', action: 'config.set', target: null, summary: { error: 'TOCDO_ERR_VALIDATION' }, clientIp: '203.0.113.7', status: 400 },
      { actor: fingerprint, via: 'api', action: 'agency-services.set', target: agencyId, summary: { portalHost: 'portal.example.invalid', publicServiceHost: null, mailDomain: 'mail.example.invalid', dnsZone: null }, clientIp: '203.0.113.7', status: 200 },
      { actor: fingerprint, via: 'api', action: 'config.set', target: null, summary: { version: 2, fields: Object.keys(validConfig()).sort().join(',') }, clientIp: '203.0.113.7', status: 200 },
      { actor: fingerprint, via: 'cli', action: 'agent.revoke', target: agentId, summary: { status: 'revoked' }, clientIp: '127.0.0.1', status: 200 },
      { actor: fingerprint, via: 'api', action: 'agency.add', target: expect.any(String), summary: expect.objectContaining({ name: 'Trạm công cộng (audit)', isp: 'VNPT', enrolmentCodeExpiresAt: expect.stringMatching(/^\d{4}-/) }), clientIp: '198.51.100.20', status: 200 },
      { actor: fingerprint, via: 'api', action: 'enrolment-code.issue', target: agencyId, summary: { expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }, clientIp: '203.0.113.7', status: 200 },
      { actor: fingerprint, via: 'cli', action: 'agency.add', target: agencyId, summary: expect.objectContaining({ name: 'UBND xã Ngọc Hồi (audit)', connectionClass: 'fixed', isp: 'Viettel' }), clientIp: '127.0.0.1', status: 200 }
    ])
    // Server time, in order, within the test's span (the collector's clock is the host's).
    const at = r.body.entries.map((e) => Date.parse(e.at))
    for (const t of at) expect(t).toBeGreaterThanOrEqual(startedAt - 1)
    for (const t of at) expect(t).toBeLessThanOrEqual(Date.now())
    expect([...at].sort((x, y) => y - x)).toEqual(at)
    // The admin's listing itself is not an action.
    expect(r.body.entries.some((e) => e.action.startsWith('GET'))).toBe(false)
  })

  it('never stores an enrolment code or a token, in the API reply or in the table', async () => {
    const r = await admin<AuditListReply>('GET', '/api/v1/admin/audit')
    const rows = await db?.rows('admin_audit') ?? []
    expect(rows.length).toBeGreaterThan(0)
    const raw = JSON.stringify(rows)
    expect(secrets.length).toBe(5)
    for (const s of secrets) {
      expect(JSON.stringify(r.body)).not.toContain(s)
      expect(raw).not.toContain(s)
    }
    expect(raw).not.toContain(createHash('sha256').update(adminToken).digest('hex'))
  })

  it('pages back with before, and names the field of a bad query', async () => {
    const first = await admin<AuditListReply>('GET', '/api/v1/admin/audit?limit=3')
    expect(first.body.entries).toHaveLength(3)
    expect(first.body.nextBefore).toBe(first.body.entries[2]?.id)
    const next = await admin<AuditListReply>('GET', `/api/v1/admin/audit?limit=100&before=${String(first.body.nextBefore)}`)
    expect(next.body.entries).toHaveLength(5)
    expect(next.body.nextBefore).toBeNull()
    expect(next.body.entries.every((e) => e.id < (first.body.nextBefore ?? 0))).toBe(true)
    for (const [q, field] of [['limit=0', 'querystring/limit'], ['limit=1001', 'querystring/limit'], ['limit=ten', 'querystring/limit'], ['before=-1', 'querystring/before'], ['since=1', 'querystring/since']] as const) {
      const bad = await admin<{ code: string, field: string }>('GET', `/api/v1/admin/audit?${q}`)
      expect(bad.status, q).toBe(400)
      expect(bad.body.field, q).toBe(field)
    }
  })

  it('is refused without the admin token', async () => {
    const none = await call<{ code: string }>(`${c.url}/api/v1/admin/audit`, {})
    expect(none.status).toBe(401)
    expect(none.body.code).toBe('TOCDO_ERR_AUTH_MISSING')
    const wrong = await call<{ code: string }>(`${c.url}/api/v1/admin/audit`, { token: 'not-the-admin-token-0123456789' })
    expect(wrong.status).toBe(401)
    expect(JSON.stringify(wrong.body)).not.toContain('agency')
  })

  it('tocdo-collector audit list prints the log', async () => {
    const list = await cli(['audit', 'list', '--limit', '2'])
    expect(list.code, list.stderr).toBe(0)
    const lines = list.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^id\s+at\s+actor\s+via\s+clientIp\s+action\s+target\s+status\s+summary$/)
    expect(lines[1]).toMatch(new RegExp(`${fingerprint}\\s+api\\s+203\\.0\\.113\\.7\\s+agent\\.decommission\\s+no-such-agent\\s+404`))
    expect(lines[2]).toMatch(/config\.set\s+-\s+400/)
    expect(lines[3]).toMatch(/^older entries: --before \d+$/)
    const json = JSON.parse((await cli(['audit', 'list', '--json'])).stdout) as AuditListReply
    expect(json.entries).toHaveLength(8)
    const bad = await cli(['audit', 'list', '--limit', 'lots'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('--limit must be a whole number')
  })
})
