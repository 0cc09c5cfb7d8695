import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gzipSync } from 'node:zlib'
import { startTempCollector, type TempCollector } from '../helpers/temp-collector.js'
import { backends } from '../helpers/stores.js'
import { until } from '../helpers/until.js'
import { addAgency, call, enrol, enrolledAgent, sampleAgency, sync, syncBody, validConfig } from '../helpers/fleet-client.js'
import { latencyBatch, latencyRecord } from '../fixtures/records.js'
import type { AgentView, EnrollReply } from '../../shared/schemas/fleet.js'

const ADMIN = 'test-admin-token-0123456789abcdef'

/**
 * The fleet API end to end over real HTTP on loopback: admin, enrolment, sync with
 * heartbeat, idempotent ingest, remote config, auth, and every error status produced for real.
 */
describe.each(backends)('fleet API on $name', (backend) => {
  let c: TempCollector
  let a: EnrollReply
  const url = (p: string): string => `${c.url}${p}`
  /** Stored results, read on a connection of the test's own. */
  const results = async (where: (r: Record<string, unknown>) => boolean): Promise<Array<Record<string, unknown>>> => (await c.db.rows('result')).filter(where)

  beforeAll(async () => {
    c = await startTempCollector({ adminToken: ADMIN, commitIntervalMs: 10 }, { backend })
    a = await enrolledAgent(c.url, ADMIN)
  })
  afterAll(async () => {
    await c?.close()
  })

  it('enrols an agent with its agency and the config in force; the code is single use', async () => {
    const { agency, enrolment } = await addAgency(c.url, ADMIN, { name: 'Bưu điện văn hoá xã (test)', category: 'public_access_point' })
    expect(enrolment.code).toMatch(/^[A-Z2-7]{16}$/)
    expect(Date.parse(enrolment.expiresAt) - Date.now()).toBeGreaterThan(13.9 * 86_400_000)
    const first = await enrol(c.url, enrolment.code, 'pc-a')
    expect(first.status).toBe(200)
    expect(first.body.agency).toMatchObject({ id: agency.id, category: 'public_access_point', legacyDistrictCode: agency.legacyDistrictCode })
    expect(first.body.config.version).toBe(1)
    expect(first.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const again = await enrol(c.url, enrolment.code, 'pc-b')
    expect(again.status).toBe(400)
    expect(again.body).toMatchObject({ code: 'TOCDO_ERR_ENROLMENT_CODE', field: 'code' })
    // Only the hash of the token is stored.
    const agents = await c.db.rows('agent')
    const stored = agents.find((r) => r.id === first.body.agentId)?.token_hash as Buffer
    expect(stored.length).toBe(32)
    expect(JSON.stringify(agents)).not.toContain(first.body.token)
  })

  it('stores an ambiguous legacy placement with its candidates; refuses an unknown or unresolved new commune', async () => {
    // 20014 (2025-07) draws from old communes in three districts.
    const { agency } = await addAgency(c.url, ADMIN, { communeCode: '20014', scheme: '2025-07' })
    expect(agency.legacyDistrictCode).toBeNull()
    expect(agency.placementCandidates.length).toBe(3)
    const listed = await call<{ agencies: Array<{ id: string, placementCandidates: string[] }> }>(url('/api/v1/admin/agencies'), { token: ADMIN })
    expect(listed.body.agencies.find((a) => a.id === agency.id)?.placementCandidates).toEqual(agency.placementCandidates)
    const unknown = await call<{ field: string }>(url('/api/v1/admin/agencies'), { method: 'POST', token: ADMIN, body: { ...sampleAgency(), communeCode: '99999', scheme: '2025-07' } })
    expect([unknown.status, unknown.body.field]).toEqual([404, 'communeCode'])
    // Old commune 00007 was split between two new communes: the new one must be given.
    const split = await call<{ field: string, message: string }>(url('/api/v1/admin/agencies'), { method: 'POST', token: ADMIN, body: { ...sampleAgency(), communeCode: '00007', scheme: '2025-03' } })
    expect([split.status, split.body.field]).toEqual([400, 'newCommuneCode'])
  })

  it('refuses an expired code and an unknown one', async () => {
    const { agency } = await addAgency(c.url, ADMIN)
    const old = await c.app.fleet.enrolment.issue(agency.id, Date.now() - 15 * 86_400_000)
    expect((await enrol(c.url, old.code)).status).toBe(400)
    expect((await enrol(c.url, 'AAAAAAAAAAAAAAAA')).body).toMatchObject({ code: 'TOCDO_ERR_ENROLMENT_CODE' })
    const fresh = await call<{ code: string }>(url(`/api/v1/admin/agencies/${agency.id}/enrolment-codes`), { method: 'POST', token: ADMIN })
    expect((await enrol(c.url, fresh.body.code)).status).toBe(200)
  })

  it('syncs: per-item acks, duplicate and conflict, heartbeat stored, server time, gzip', async () => {
    const batch = latencyBatch(5)
    const r1 = await sync(c.url, a.token, syncBody(a.agentId, batch), { gzip: true })
    expect(r1.status).toBe(200)
    expect(r1.body.acks).toMatchObject({ accepted: 5, duplicate: 0, conflict: 0, rejected: 0 })
    expect(Math.abs(Date.parse(r1.body.serverTime) - Date.now())).toBeLessThan(5000)
    expect(r1.body.config?.version).toBe(1) // configVersion null → the config in force
    expect(r1.body.nextSyncS).toBe(300)

    const changed = { ...batch[1], durationMs: 9999 }
    const bad = { ...latencyRecord(), durationMs: -1 }
    const r2 = await sync(c.url, a.token, syncBody(a.agentId, [batch[0], changed, bad], { configVersion: 1 }))
    expect(r2.status).toBe(200)
    expect(r2.body.config).toBeNull()
    expect(r2.body.acks.items.map((i) => i.status)).toEqual(['duplicate', 'conflict', 'rejected'])
    expect(r2.body.acks.items[2]).toMatchObject({ field: '/durationMs' })
    expect(await results((r) => r.agent_id === a.agentId)).toHaveLength(5)
    // The first copy is kept.
    const kept = await results((r) => r.agent_id === a.agentId && r.result_id === batch[1]?.id)
    expect(kept.map((r) => JSON.parse(r.raw as string).durationMs)).toEqual([2100])

    const agents = await call<{ agents: AgentView[] }>(url('/api/v1/admin/agents'), { token: ADMIN })
    const me = agents.body.agents.find((x) => x.id === a.agentId)
    expect(me).toMatchObject({ state: 'online', queuePending: 3, queueOldestAgeS: 290, clockOffsetMs: -340, configVersion: 1, agentVersion: '0.1.0' })
  })

  it('corrects measured time by a known offset, flags skew, and refuses only the implausibly future', async () => {
    const now = Date.now()
    const skewed = latencyRecord({ clock: { offsetMs: 3_600_000, sinceSyncS: 60 } }, new Date(now - 3_600_000))
    const unknownClock = latencyRecord({ clock: { offsetMs: null, sinceSyncS: null } }, new Date(now + 10 * 86_400_000))
    const future = latencyRecord({ clock: { offsetMs: 0, sinceSyncS: 60 } }, new Date(now + 2 * 86_400_000))
    const r = await sync(c.url, a.token, syncBody(a.agentId, [skewed, unknownClock, future], { configVersion: 1 }))
    expect(r.body.acks.items.map((i) => i.status)).toEqual(['accepted', 'accepted', 'rejected'])
    expect(r.body.acks.items[2]?.field).toBe('/measuredAt')
    const [row] = await results((r) => r.result_id === skewed.id) as Array<{ measured_at_corr: number, clock_flags: number }>
    expect(Math.abs((row?.measured_at_corr ?? 0) - now)).toBeLessThan(2000)
    expect((row?.clock_flags ?? 0) & 2).toBe(2) // CLOCK_SKEW
    const [u] = await results((r) => r.result_id === unknownClock.id) as Array<{ clock_flags: number }>
    expect((u?.clock_flags ?? 0) & 1).toBe(1) // CLOCK_UNKNOWN, stored all the same
  })

  it('keeps POST /api/v1/results on the same ingest path', async () => {
    const rec = latencyRecord()
    const r = await call<{ items: unknown[] }>(url('/api/v1/results'), { method: 'POST', token: a.token, body: { results: [rec] } })
    expect(r.status).toBe(200)
    expect(r.body.items).toEqual([{ id: rec.id, status: 'accepted' }])
    const again = await sync(c.url, a.token, syncBody(a.agentId, [rec], { configVersion: 1 }))
    expect(again.body.acks.items[0]?.status).toBe('duplicate')
  })

  it('remote config: a new version reaches agents; an invalid one is refused whole naming the field', async () => {
    const bad = await call<{ code: string, field: string }>(url('/api/v1/admin/config'), { method: 'PUT', token: ADMIN, body: validConfig({ servers: ['ftp://x.example.vn'] }) })
    expect(bad.status).toBe(400)
    expect(bad.body.field).toBe('/servers/0')
    const tooFew = await call<{ field: string }>(url('/api/v1/admin/config'), { method: 'PUT', token: ADMIN, body: { ...validConfig(), schedule: { ...validConfig().schedule, fullTestsPerDay: 3 } } })
    expect(tooFew.body.field).toBe('/schedule/fullTestsPerDay')
    const ok = await call<{ version: number }>(url('/api/v1/admin/config'), { method: 'PUT', token: ADMIN, body: validConfig() })
    expect(ok.status).toBe(200)
    expect(ok.body.version).toBe(2)
    const r = await sync(c.url, a.token, syncBody(a.agentId, [], { configVersion: 1 }))
    expect(r.body.config).toMatchObject({ version: 2, maxSecondsPerDirection: 12 })
    const r2 = await sync(c.url, a.token, syncBody(a.agentId, [], { configVersion: 2 }))
    expect(r2.body.config).toBeNull()
  })

  it('auth: missing, wrong, another agent\'s id, admin token checked', async () => {
    const body = syncBody(a.agentId, [latencyRecord()])
    const missing = await call<{ code: string }>(url('/api/v1/sync'), { method: 'POST', body })
    expect([missing.status, missing.body.code]).toEqual([401, 'TOCDO_ERR_AUTH_MISSING'])
    const wrong = await sync(c.url, 'not-a-token', body)
    expect([wrong.status, wrong.body.code]).toEqual([401, 'TOCDO_ERR_AUTH_INVALID'])
    const other = await enrolledAgent(c.url, ADMIN, 'pc-other')
    const spoof = await sync(c.url, other.token, body)
    expect(spoof.status).toBe(403)
    expect(spoof.body.field).toBe('body/agentId')
    expect((await call(url('/api/v1/admin/agents'), { token: a.token })).status).toBe(401)
    expect((await call(url('/api/v1/admin/agents'), {})).status).toBe(401)
  })

  it('403 for a revoked agent and 410 for a decommissioned one; nothing stored', async () => {
    const r = await enrolledAgent(c.url, ADMIN, 'pc-revoked')
    const d = await enrolledAgent(c.url, ADMIN, 'pc-decom')
    expect((await call(url(`/api/v1/admin/agents/${r.agentId}/revoke`), { method: 'POST', token: ADMIN })).status).toBe(200)
    expect((await call(url(`/api/v1/admin/agents/${d.agentId}/decommission`), { method: 'POST', token: ADMIN })).status).toBe(200)
    const rs = await sync(c.url, r.token, syncBody(r.agentId, [latencyRecord()]))
    expect([rs.status, rs.body.code]).toEqual([403, 'TOCDO_ERR_AGENT_REVOKED'])
    const ds = await sync(c.url, d.token, syncBody(d.agentId, [latencyRecord()]))
    expect([ds.status, ds.body.code]).toEqual([410, 'TOCDO_ERR_AGENT_DECOMMISSIONED'])
    expect(await results((x) => x.agent_id === r.agentId || x.agent_id === d.agentId)).toEqual([])
    expect((await call(url('/api/v1/admin/agents/nope/revoke'), { method: 'POST', token: ADMIN })).status).toBe(404)
  })

  it('400 names the field; 413 on a decoded body over the limit (zip bomb) and an oversized compressed one; 415; truncated gzip is 400', async () => {
    const { heartbeat, ...noHb } = syncBody(a.agentId, [])
    void heartbeat
    const r400 = await sync(c.url, a.token, noHb)
    expect(r400.status).toBe(400)
    expect(r400.body.field).toBe('body/heartbeat')

    // 2 MiB of spaces inside valid JSON compresses to a few KiB: refused by decoded size.
    const bomb = gzipSync(JSON.stringify(syncBody(a.agentId, [])).replace('{', '{' + ' '.repeat(2 * 1024 * 1024)))
    expect(bomb.length).toBeLessThan(64 * 1024)
    const r413 = await call(url('/api/v1/sync'), { method: 'POST', token: a.token, raw: bomb, headers: { 'content-encoding': 'gzip' } })
    expect(r413.status).toBe(413)
    const big = await call(url('/api/v1/sync'), { method: 'POST', token: a.token, raw: Buffer.alloc(1024 * 1024 + 10, 0x20), headers: { 'content-encoding': 'gzip' } })
    expect(big.status).toBe(413)

    const r415 = await call(url('/api/v1/sync'), { method: 'POST', token: a.token, raw: 'x', headers: { 'content-encoding': 'br' } })
    expect(r415.status).toBe(415)
    const r415b = await call(url('/api/v1/sync'), { method: 'POST', token: a.token, raw: 'x', headers: { 'content-type': 'text/csv' } })
    expect(r415b.status).toBe(415)

    const rec = latencyRecord()
    const full = gzipSync(JSON.stringify(syncBody(a.agentId, [rec])))
    const truncated = await call<{ code: string }>(url('/api/v1/sync'), { method: 'POST', token: a.token, raw: full.subarray(0, full.length - 12), headers: { 'content-encoding': 'gzip' } })
    expect(truncated.status).toBe(400)
    expect(await results((r) => r.result_id === rec.id)).toEqual([])
  })

  it('422 for an unsupported schema major: nothing of the batch is stored', async () => {
    const ok = latencyRecord()
    const v2 = { ...latencyRecord(), schemaVersion: '2.0.0' }
    const r = await sync(c.url, a.token, syncBody(a.agentId, [ok, v2]))
    expect(r.status).toBe(422)
    expect(r.body.field).toBe('results/1/schemaVersion')
    expect(await results((r) => r.result_id === ok.id)).toEqual([])
  })
})

describe('fleet API limits', () => {
  it('429 with Retry-After past the per-agent sync limit, and on enrolment per IP', async () => {
    const c = await startTempCollector({ adminToken: ADMIN, syncRateLimitMax: 3, enrolRateLimitPerMin: 4 })
    try {
      const a = await enrolledAgent(c.url, ADMIN)
      const statuses: number[] = []
      let retryAfter: unknown
      for (let i = 0; i < 4; i++) {
        const r = await sync(c.url, a.token, syncBody(a.agentId, []))
        statuses.push(r.status)
        if (r.status === 429) retryAfter = r.headers['retry-after']
      }
      expect(statuses).toEqual([200, 200, 200, 429])
      expect(Number(retryAfter)).toBeGreaterThan(0)
      const enrolStatuses: number[] = []
      for (let i = 0; i < 4; i++) enrolStatuses.push((await enrol(c.url, 'AAAAAAAAAAAAAAAA')).status)
      expect(enrolStatuses).toEqual([400, 400, 400, 429]) // one of the 4 was used above
    } finally { await c.close() }
  })

  it('503 with Retry-After in [60, 300] s when the write queue is past its bound; the queued request still commits', async () => {
    const c = await startTempCollector({ adminToken: ADMIN, ingestQueueMaxRows: 1, commitIntervalMs: 1500 })
    try {
      const a = await enrolledAgent(c.url, ADMIN)
      const first = sync(c.url, a.token, syncBody(a.agentId, [latencyRecord()]))
      // The first request is queued (not yet committed: the interval is long) before the second arrives.
      await until(() => c.app.fleet.committer.queuedRows >= 1)
      const busy = await sync(c.url, a.token, syncBody(a.agentId, [latencyRecord()]))
      expect(busy.status).toBe(503)
      expect(busy.body.code).toBe('TOCDO_ERR_SERVER_BUSY')
      const ra = Number(busy.headers['retry-after'])
      expect(ra).toBeGreaterThanOrEqual(60)
      expect(ra).toBeLessThanOrEqual(300)
      expect((await first).body.acks.accepted).toBe(1)
    } finally { await c.close() }
  })
})
