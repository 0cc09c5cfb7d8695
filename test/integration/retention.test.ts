import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTempCollector, type TempCollector } from '../helpers/temp-collector.js'
import { backends } from '../helpers/stores.js'
import { call, enrolledAgent, sync, syncBody } from '../helpers/fleet-client.js'
import { latencyRecord, speedRecord } from '../fixtures/records.js'

/** Issue 11: raw results past the retention age go, in small batches; rollups and reports stay the same. */
const ADMIN = 'retention-admin-token-0123456789abcdef'
const DAY = 86_400_000

// On PostgreSQL the months past the cutoff go as whole partitions (docs/storage.md); the contract is the same.
describe.each(backends)('result retention ($name)', (backend) => {
  let c: TempCollector
  beforeAll(async () => { c = await startTempCollector({ adminToken: ADMIN, retentionDays: 365, retentionBatchRows: 7 }, { backend }) })
  // Stored rows are read through a connection of the test's own (c.db).
  afterAll(async () => { await c?.close() })

  it('deletes raw results older than retentionDays in batches; rollup tables and the report of the old month are unchanged', async () => {
    const a = await enrolledAgent(c.url, ADMIN)
    const now = Date.now()
    const oldAt = new Date(now - 400 * DAY)
    const old = Array.from({ length: 40 }, (_, i) => speedRecord({ at: new Date(oldAt.getTime() + i * 3_600_000), downMbps: 100 + i, upMbps: 50, idleMs: 12 }))
    const recent = Array.from({ length: 5 }, () => latencyRecord())
    const r = await sync(c.url, a.token, syncBody(a.agentId, [...old, ...recent]))
    expect(r.body.acks).toMatchObject({ accepted: 45 })
    const month = new Date(oldAt.getTime() + 7 * 3_600_000).toISOString().slice(0, 7)
    const report = async (): Promise<unknown> => {
      const rep = await call<Record<string, unknown>>(`${c.url}/api/v1/reports/areas?level=legacy_district&province=62&period=${month}`, {})
      expect(rep.status).toBe(200)
      return { ...rep.body, generatedAt: null }
    }
    const dump = async (): Promise<unknown> => ({ hour: await c.db.rows('rollup_agent_hour'), month: await c.db.rows('rollup_agent_month') })
    const before = { report: await report(), rollups: await dump() }
    const ids = async (): Promise<string[]> => (await c.db.rows('result')).map((x) => x.result_id as string).sort()
    expect(await ids()).toHaveLength(45)

    expect(await c.app.runRetention(now)).toBe(40)
    expect(await ids()).toEqual(recent.map((x) => x.id).sort())
    expect(await dump()).toEqual(before.rollups)
    expect(await report()).toEqual(before.report)
    // Nothing more to do, and what is younger stays.
    expect(await c.app.runRetention(now)).toBe(0)
  })
})
