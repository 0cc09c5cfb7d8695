import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { addAgencyWithAgent, openCollectorFile, startTempCollector, type TempCollector } from '../helpers/temp-collector.js'
import { sampleAgency, syncBody } from '../helpers/fleet-client.js'
import { runSpeedTest } from '../../agent/measure/speed-test.js'
import { systemClock } from '../../agent/measure/context.js'
import { postSync } from '../../agent/delivery/fleet-client.js'
import type { ResultRecord } from '../../shared/schemas/result.js'
import type { SyncAcks } from '../../shared/schemas/fleet.js'

/**
 * Issue 2 end to end: a real collector on port 0, a real agent measurement against the
 * collector's own speed-test endpoints, delivery through the agent's own sync client, and
 * the district report counting it.
 */
describe('agent → collector → district report', () => {
  let c: TempCollector
  let token: string
  let agentId: string
  let record: ResultRecord

  /** Delivers records the way the agent does (POST /api/v1/sync, gzip) and returns the acks. */
  async function deliver (records: unknown[]): Promise<SyncAcks> {
    const out = await postSync(c.url, token, syncBody(agentId, records))
    if (!out.ok) throw new Error(`sync answered ${out.status} ${out.code}: ${out.message}`)
    return out.body.acks
  }

  beforeAll(async () => {
    c = await startTempCollector()
    const added = await addAgencyWithAgent(c, sampleAgency({ name: 'UBND phường Kon Tum (test)' }))
    token = added.token
    agentId = added.agentId
    record = await runSpeedTest({ server: c.url, clock: systemClock, pings: 20, maxMsPerDirection: 3000, streams: 2 })
  })

  // Stored rows are read through a connection of the test's own to the collector's file.
  let file: ReturnType<typeof openCollectorFile> | undefined
  const stored = (): ReturnType<typeof openCollectorFile> => (file ??= openCollectorFile(c))
  afterAll(async () => { file?.close(); await c?.close() })

  it('measures real download, upload and idle latency against the collector', () => {
    expect(record.status).toBe('ok')
    expect(record.download?.mbps).toBeGreaterThan(0)
    expect(record.upload?.mbps).toBeGreaterThan(0)
    expect(record.upload?.countedAt).toBe('server')
    expect(record.latency?.idle?.n).toBeGreaterThanOrEqual(20)
    expect(record.latency?.idle?.medianMs).toBeGreaterThan(0)
    // The headline comes from the receiver-side samples, not from a constant.
    const samples = record.download?.samples.cumulativeBytes ?? []
    expect(samples.length).toBeGreaterThan(5)
    expect(samples.at(-1)).toBe(record.download?.bytes)
  })

  it('stores the delivered result and counts it in the district report', async () => {
    const reply = await deliver([record])
    expect(reply.items).toEqual([{ id: record.id, status: 'accepted' }])

    const { statusCode, body } = await request(`${c.url}/api/v1/reports/districts?province=62`)
    expect(statusCode).toBe(200)
    const report = await body.json() as { districts: Array<{ districtCode: string, agents: number, results: number }> }
    const d608 = report.districts.find((d) => d.districtCode === '608')
    expect(d608).toMatchObject({ agents: 1, results: 1 })
    // Every other district of Kon Tum is listed, with nothing counted.
    expect(report.districts.map((d) => d.districtCode)).toEqual(['608', '610', '611', '612', '613', '614', '615', '616', '617', '618'])
    expect(report.districts.filter((d) => d.districtCode !== '608').every((d) => d.results === 0)).toBe(true)
  })

  it('acknowledges a resent batch as duplicate and stores nothing twice', async () => {
    const again = await deliver([record])
    expect(again.items).toEqual([{ id: record.id, status: 'duplicate' }])
    expect(again.accepted).toBe(0)
    const n = stored().prepare('SELECT count(*) FROM result WHERE result_id = ?').pluck().get(record.id)
    expect(n).toBe(1)
  })

  it('reports a different payload under a stored id as a conflict and keeps the first copy', async () => {
    const altered = { ...record, download: { ...record.download!, mbps: 1 } }
    const reply = await deliver([altered])
    expect(reply.items[0]?.status).toBe('conflict')
    const kept = stored().prepare('SELECT download_mbps FROM result WHERE result_id = ?').pluck().get(record.id)
    expect(kept).toBe(record.download?.mbps)
  })

  it('answers a malformed record with a 400 that names the field, and stores nothing', async () => {
    const before = stored().prepare('SELECT count(*) FROM result').pluck().get()
    const bad = { ...record, id: '01J0000000000000000000BAD1', download: { ...record.download!, mbps: 'fast' } }
    const { statusCode, body } = await request(`${c.url}/api/v1/results`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ results: [bad] })
    })
    const reply = await body.json() as { code: string, message: string, field: string }
    expect(statusCode).toBe(400)
    expect(reply.code).toBe('TOCDO_ERR_VALIDATION')
    expect(reply.field).toBe('results/0/download/mbps')
    expect(reply.message).toContain('/download/mbps')
    expect(stored().prepare('SELECT count(*) FROM result').pluck().get()).toBe(before)
  })

  it('stores the good items of a mixed batch and rejects the bad one by name', async () => {
    const good = await runSpeedTest({ server: c.url, clock: systemClock, pings: 5, maxMsPerDirection: 1500, streams: 1, directions: ['download'] })
    const bad = { ...good, id: '01J0000000000000000000BAD2', measuredAt: 'yesterday' }
    const reply = await deliver([good, bad])
    expect(reply.items.map((i) => i.status)).toEqual(['accepted', 'rejected'])
    expect(reply.items[1]?.field).toBe('/measuredAt')
  })

  it('refuses results without a valid token', async () => {
    const { statusCode, body } = await request(`${c.url}/api/v1/results`, {
      method: 'POST',
      headers: { authorization: 'Bearer not-a-real-token-at-all', 'content-type': 'application/json' },
      body: JSON.stringify({ results: [record] })
    })
    expect(statusCode).toBe(401)
    expect((await body.json() as { code: string }).code).toBe('TOCDO_ERR_AUTH_INVALID')
  })
})
