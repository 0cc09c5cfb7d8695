import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openCollectorFile, startTempCollector, type TempCollector } from '../helpers/temp-collector.js'
import { addAgency, call, enrol, enrolledAgent, heartbeat, sync, syncBody } from '../helpers/fleet-client.js'
import { latencyRecord } from '../fixtures/records.js'
import type { EnrollReply } from '../../shared/schemas/fleet.js'
import type { Agency, AgentRow, AgentSeen, PreparedBatch } from '../../collector/storage/stores.js'

/**
 * Issue 11: no request can sink another. Every input the hostile-client run found is sent
 * together with valid syncs of other agents against a real collector; the valid ones must all
 * be accepted, and no request gets a 5xx.
 */
const ADMIN = 'issue-11-admin-token-0123456789abcdef'

/** `{"a":{"a":…}}` `depth` levels deep, built as text: JSON.stringify itself would overflow. */
const nested = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)

/** A sync body as text with `inject` spliced in at a marker, so the deep value never passes through JSON.stringify. */
function rawSync (body: unknown, marker: string, inject: string): string {
  const text = JSON.stringify(body)
  if (!text.includes(`"${marker}"`)) throw new Error('marker not in body')
  return text.replace(`"${marker}"`, inject)
}

async function post (c: TempCollector, token: string, raw: string): Promise<{ status: number, body: Record<string, unknown> }> {
  const r = await call<Record<string, unknown>>(`${c.url}/api/v1/sync`, { method: 'POST', token, raw })
  return { status: r.status, body: r.body }
}

describe('issue 11: isolation of requests and bounds on every value', () => {
  let c: TempCollector
  let file: ReturnType<typeof openCollectorFile> | undefined
  /** The collector's SQLite file on a connection of the test's own, to read stored rows and to inject a failing write. */
  const storedFile = (): NonNullable<typeof file> => (file ??= openCollectorFile(c, { readonly: false }))
  const agents: EnrollReply[] = []
  beforeAll(async () => {
    // A long group window, so the poison and the valid requests land in the same group commit.
    c = await startTempCollector({ adminToken: ADMIN, commitIntervalMs: 200 })
    for (let i = 0; i < 6; i++) agents.push(await enrolledAgent(c.url, ADMIN, `pc-${i}`))
  })
  afterAll(async () => {
    file?.close()
    await c?.close()
  })

  it('poison requests sent together with valid ones: every valid result accepted, no 5xx', async () => {
    const [bad, ...good] = agents as [EnrollReply, ...EnrollReply[]]
    const poison: Array<{ name: string, send: () => Promise<{ status: number, body: Record<string, unknown> }> }> = [
      { name: 'clock.offsetMs -1e16', send: async () => await post(c, bad.token, JSON.stringify(syncBody(bad.agentId, [latencyRecord({ clock: { offsetMs: -1e16, sinceSyncS: 10 } }), latencyRecord()]))) },
      { name: 'record nested 20,000 deep', send: async () => await post(c, bad.token, rawSync(syncBody(bad.agentId, [{ ...latencyRecord(), extra: 'DEEP' }]), 'DEEP', nested(20_000))) },
      { name: 'heartbeat.counters nested 20,000 deep', send: async () => await post(c, bad.token, rawSync(syncBody(bad.agentId, [], { counters: { skippedCrossTraffic: 0, skippedBudget: 0, storageFull: 0, missedSlots: 0, extra: 'DEEP' } as never }), 'DEEP', nested(20_000))) },
      { name: 'record nested 40 deep (refused alone)', send: async () => await post(c, bad.token, rawSync(syncBody(bad.agentId, [{ ...latencyRecord(), extra: 'DEEP' }, latencyRecord()]), 'DEEP', nested(40))) },
      { name: 'seq 1e300', send: async () => await post(c, bad.token, JSON.stringify(syncBody(bad.agentId, [{ ...latencyRecord(), seq: 1e300 }]))) },
      { name: 'cores 1e300', send: async () => await post(c, bad.token, JSON.stringify(syncBody(bad.agentId, [{ ...latencyRecord(), context: { ...latencyRecord().context, cores: 1e300 } }]))) },
      { name: 'measuredAt 2025-02-31', send: async () => await post(c, bad.token, JSON.stringify(syncBody(bad.agentId, [latencyRecord({ measuredAt: '2025-02-31T10:00:00Z' })]))) },
      { name: 'measuredAt 24:00', send: async () => await post(c, bad.token, JSON.stringify(syncBody(bad.agentId, [latencyRecord({ measuredAt: '2025-03-01T24:00:00Z' })]))) },
      { name: 'heartbeat clock.offsetMs -1e16', send: async () => await post(c, bad.token, JSON.stringify(syncBody(bad.agentId, [], { clock: { offsetMs: -1e16, sinceSyncS: 1 } }))) }
    ]
    const valid = good.flatMap((a) => [0, 1, 2].map(() => ({ agent: a, records: [latencyRecord(), latencyRecord()] })))
    const [poisoned, validReplies] = await Promise.all([
      Promise.all(poison.map(async (p) => ({ name: p.name, ...(await p.send()) }))),
      Promise.all(valid.map(async (v) => await sync(c.url, v.agent.token, syncBody(v.agent.agentId, v.records))))
    ])
    for (const r of validReplies) {
      expect(r.status).toBe(200)
      expect(r.body.acks).toMatchObject({ accepted: 2, rejected: 0 })
    }
    const byName = Object.fromEntries(poisoned.map((p) => [p.name, p]))
    for (const p of poisoned) expect(p.status, `${p.name}: ${JSON.stringify(p.body).slice(0, 300)}`).toBeLessThan(500)
    // Refused item by item where the envelope is sound: the other record of the same request goes in.
    const offset = byName['clock.offsetMs -1e16']!.body.acks as { accepted: number, rejected: number, items: Array<{ status: string, field?: string }> }
    expect(offset).toMatchObject({ accepted: 1, rejected: 1 })
    expect(offset.items[0]).toMatchObject({ status: 'rejected', field: '/clock/offsetMs' })
    expect(byName['record nested 40 deep (refused alone)']!.body.acks).toMatchObject({ accepted: 1, rejected: 1 })
    for (const name of ['seq 1e300', 'cores 1e300', 'measuredAt 2025-02-31', 'measuredAt 24:00']) {
      expect(byName[name]!.status, name).toBe(200)
      expect(byName[name]!.body.acks, name).toMatchObject({ accepted: 0, rejected: 1 })
    }
    // A broken envelope is the sender's own 400, naming the field.
    expect(byName['record nested 20,000 deep']).toMatchObject({ status: 400, body: { code: 'TOCDO_ERR_VALIDATION' } })
    expect(byName['record nested 20,000 deep']!.body.field).toMatch(/^body\/results\/0\/extra/)
    expect(byName['heartbeat.counters nested 20,000 deep']).toMatchObject({ status: 400 })
    expect(byName['heartbeat.counters nested 20,000 deep']!.body.field).toMatch(/^body\/heartbeat\/counters\/extra/)
    expect(byName['heartbeat clock.offsetMs -1e16']).toMatchObject({ status: 400, body: { field: 'body/heartbeat/clock/offsetMs' } })
    const stored = storedFile().prepare('SELECT count(*) FROM result').pluck().get() as number
    expect(stored).toBe(valid.length * 2 + 2)
  })

  it('a group whose commit fails is retried request by request: only the faulty request fails', async () => {
    const [a, b] = agents as [EnrollReply, EnrollReply]
    const row = async (x: EnrollReply): Promise<{ agent: AgentRow, agency: Agency }> => {
      const agent = await c.app.stores.fleet.agentById(x.agentId) as AgentRow
      return { agent, agency: await c.app.stores.fleet.agencyById(agent.agencyId) as Agency }
    }
    const ra = await row(a)
    const rb = await row(b)
    const good = c.app.ingestor.prepare(ra.agent, ra.agency, [latencyRecord(), latencyRecord()])
    const faulty = c.app.ingestor.prepare(rb.agent, rb.agency, [latencyRecord()])
    const before = c.app.fleet.committer.stats.groupRetries
    const seen = (agentId: string): AgentSeen => ({ kind: 'heartbeat', agentId, at: Date.now(), heartbeat: heartbeat() })
    // The faulty request's heartbeat write fails inside the group's transaction (as a failing disk write would).
    storedFile().exec(`CREATE TRIGGER faulty_heartbeat BEFORE UPDATE ON agent WHEN NEW.id = '${b.agentId}' BEGIN SELECT RAISE(ABORT, 'write failed for this request only'); END`)
    try {
      // Queued in the same tick, so one group.
      const [okOutcome, failed] = await Promise.allSettled([
        c.app.fleet.committer.submit(good, seen(a.agentId)),
        c.app.fleet.committer.submit(faulty, seen(b.agentId))
      ])
      expect(okOutcome).toMatchObject({ status: 'fulfilled', value: { accepted: 2 } })
      expect(failed).toMatchObject({ status: 'rejected', reason: { message: 'write failed for this request only' } })
    } finally { storedFile().exec('DROP TRIGGER faulty_heartbeat') }
    expect(c.app.fleet.committer.stats.groupRetries).toBe(before + 1)
    const ids = (x: PreparedBatch): string[] => x.rows.map((r) => r.row.resultId)
    const has = storedFile().prepare('SELECT count(*) FROM result WHERE result_id = ?').pluck()
    for (const id of ids(good)) expect(has.get(id)).toBe(1)
    for (const id of ids(faulty)) expect(has.get(id)).toBe(0)
  })

  it('report query parameters out of range are a 400 naming the parameter', async () => {
    for (const [path, field] of [
      ['/api/v1/reports/overview?province=62&end=9999-12', 'end'],
      ['/api/v1/reports/overview?province=62&period=9999-12', 'period'],
      ['/api/v1/reports/areas?level=legacy_district&province=62&period=9999-12', 'period'],
      ['/api/v1/reports/areas?level=legacy_district&province=62&period=rolling12&end=9999-12', 'end'],
      ['/api/v1/reports/agencies/x?end=9999-12', 'end'],
      ['/api/v1/reports/overview?province=62&period=2026-13', 'period']
    ] as const) {
      const r = await call<{ code: string, field?: string, message: string }>(`${c.url}${path}`, {})
      expect(r.status, path).toBe(400)
      expect(r.body.code).toBe('TOCDO_ERR_VALIDATION')
      expect(r.body.message, path).toContain(field)
    }
  })

  it('the heartbeat keeps unknown counters that are counts, and refuses anything else there', async () => {
    const [a] = agents as [EnrollReply]
    const ok = await sync(c.url, a.token, syncBody(a.agentId, [], { counters: { ...heartbeat().counters, newCounter: 3 } as never }))
    expect(ok.status).toBe(200)
    const bad = await sync(c.url, a.token, syncBody(a.agentId, [], { counters: { ...heartbeat().counters, newCounter: 'x' } as never }))
    expect(bad.status).toBe(400)
  })

  it('machine names and full agent ids only behind the admin token, on every public route', async () => {
    const { enrolment } = await addAgency(c.url, ADMIN)
    const hostname = 'ke-toan-pc-secret-07'
    const enrolled = (await enrol(c.url, enrolment.code, hostname)).body
    expect((await sync(c.url, enrolled.token, syncBody(enrolled.agentId, [latencyRecord()]))).status).toBe(200)
    const agencyId = (await c.app.stores.fleet.agentById(enrolled.agentId))?.agencyId as string
    const publicRoutes = [
      `/api/v1/reports/agencies/${agencyId}`,
      '/api/v1/reports/agent-health?province=62&version=2025-03',
      '/api/v1/reports/overview?province=62&version=2025-03',
      '/api/v1/reports/areas?level=legacy_district&province=62',
      '/api/v1/reports/districts?province=62',
      '/api/v1/reports/ipv6?level=legacy_district&province=62'
    ]
    for (const path of publicRoutes) {
      const r = await call(`${c.url}${path}`, {})
      expect(r.status, path).toBeLessThan(500)
      const text = JSON.stringify(r.body)
      expect(text, path).not.toContain(hostname)
      expect(text, path).not.toContain(enrolled.agentId)
    }
    const pub = await call<{ agents: Array<Record<string, unknown>> }>(`${c.url}/api/v1/reports/agencies/${agencyId}`, {})
    expect(pub.body.agents[0]).toMatchObject({ id: enrolled.agentId.slice(0, 8) })
    expect(pub.body.agents[0]).not.toHaveProperty('name')
    const admin = await call<{ agents: Array<Record<string, unknown>> }>(`${c.url}/api/v1/reports/agencies/${agencyId}`, { token: ADMIN })
    expect(admin.body.agents[0]).toMatchObject({ id: enrolled.agentId, name: hostname })
    expect((await call(`${c.url}/api/v1/reports/agencies/${agencyId}`, { token: 'not-the-admin-token' })).status).toBe(401)
  })

  it('the IPv6 services admin route validates strictly: no type coercion, no unknown properties', async () => {
    const { agency } = await addAgency(c.url, ADMIN)
    const put = async (body: unknown): Promise<number> => (await call(`${c.url}/api/v1/admin/agencies/${agency.id}/services`, { method: 'PUT', token: ADMIN, body })).status
    expect(await put({ portalHost: 12345, publicServiceHost: null, mailDomain: null })).toBe(400)
    expect(await put({ portalHost: 'kontum.gov.vn', publicServiceHost: null, mailDomain: null, surprise: true })).toBe(400)
    expect(await put({ portalHost: 'kontum.gov.vn', publicServiceHost: null, mailDomain: null })).toBe(200)
  })
})
