import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTempCollector, type TempCollector } from '../helpers/temp-collector.js'
import { call, enrolledAgent, sync, syncBody } from '../helpers/fleet-client.js'
import { latencyRecord } from '../fixtures/records.js'

/** Issue 11: Prometheus metrics behind the admin token, with figures that follow what happened. */
const ADMIN = 'metrics-admin-token-0123456789abcdef'

function value (text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '))
  if (line === undefined) throw new Error(`no series ${series} in:\n${text.slice(0, 3000)}`)
  return Number(line.slice(series.length + 1))
}

describe('GET /metrics', () => {
  let c: TempCollector
  beforeAll(async () => { c = await startTempCollector({ adminToken: ADMIN }) })
  afterAll(async () => { await c?.close() })

  it('needs the admin token', async () => {
    expect((await call(`${c.url}/metrics`, {})).status).toBe(401)
    expect((await call(`${c.url}/metrics`, { token: 'wrong-token-wrong-token-wrong' })).status).toBe(401)
  })

  it('counts ingest by ack status, commits and fsyncs, agents by state, report latency, speed-test sessions', async () => {
    const a = await enrolledAgent(c.url, ADMIN)
    await enrolledAgent(c.url, ADMIN, 'pc-never') // enrolled, never synced
    const r1 = latencyRecord()
    expect((await sync(c.url, a.token, syncBody(a.agentId, [r1, latencyRecord(), { ...latencyRecord(), seq: -1 }]))).status).toBe(200)
    expect((await sync(c.url, a.token, syncBody(a.agentId, [r1]))).status).toBe(200)
    expect((await call(`${c.url}/api/v1/reports/overview?province=62&version=2025-03`, {})).status).toBe(200)
    const m = await call<string>(`${c.url}/metrics`, { token: ADMIN })
    expect(m.status).toBe(200)
    expect(String(m.headers['content-type'])).toMatch(/^text\/plain/)
    expect(m.headers['cache-control']).toBe('no-store')
    const text = m.body
    expect(value(text, 'tocdo_ingest_requests_total')).toBe(2)
    expect(value(text, 'tocdo_ingest_items_total{status="accepted"}')).toBe(2)
    expect(value(text, 'tocdo_ingest_items_total{status="duplicate"}')).toBe(1)
    expect(value(text, 'tocdo_ingest_items_total{status="rejected"}')).toBe(1)
    expect(value(text, 'tocdo_ingest_commit_seconds_count')).toBeGreaterThanOrEqual(1)
    expect(value(text, 'tocdo_ingest_fsync_seconds_count')).toBeGreaterThanOrEqual(1)
    expect(value(text, 'tocdo_ingest_queue_rows')).toBe(0)
    expect(value(text, 'tocdo_agents{state="online"}')).toBe(1)
    expect(value(text, 'tocdo_agents{state="never"}')).toBe(1)
    expect(value(text, 'tocdo_report_seconds_count{route="/api/v1/reports/overview"}')).toBe(1)
    expect(value(text, 'tocdo_speedtest_sessions')).toBe(0)
    expect(text).toContain('tocdo_process_resident_memory_bytes')
  })
})
