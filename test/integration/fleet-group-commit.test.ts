import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { openCollectorFile, startTempCollector, type TempCollector } from '../helpers/temp-collector.js'
import { enrolledAgent, sync, syncBody } from '../helpers/fleet-client.js'
import { latencyBatch, latencyRecord } from '../fixtures/records.js'
import type { EnrollReply } from '../../shared/schemas/fleet.js'

const ADMIN = 'group-commit-admin-token-0123456789'

/**
 * Group commit: concurrent requests share transactions, each is answered only once its
 * items are committed (visible to another connection), and a failed commit fails every
 * request of its group with nothing of them stored.
 */
describe('group commit', () => {
  let c: TempCollector
  let file: ReturnType<typeof openCollectorFile> | undefined
  /** The collector's SQLite file on a connection of the test's own, to read stored rows and to inject a failing write. */
  const stored = (): NonNullable<typeof file> => (file ??= openCollectorFile(c, { readonly: false }))
  const agents: EnrollReply[] = []
  beforeAll(async () => {
    c = await startTempCollector({ adminToken: ADMIN, commitIntervalMs: 40, syncRateLimitMax: 10_000, enrolRateLimitPerMin: 1000 })
    for (let i = 0; i < 8; i++) agents.push(await enrolledAgent(c.url, ADMIN, `gc-${i}`))
  })
  afterAll(async () => {
    file?.close()
    await c?.close()
  })

  it('commits concurrent requests together and answers each after its commit', async () => {
    const reader = new Database(join(c.dataDir, 'collector.sqlite'), { readonly: true })
    try {
      const has = reader.prepare('SELECT count(*) FROM result WHERE agent_id = ? AND result_id = ?').pluck()
      const before = { ...c.app.fleet.committer.stats }
      const replies = await Promise.all(agents.flatMap((a) => [0, 1, 2].map(async () => {
        const batch = latencyBatch(20)
        const r = await sync(c.url, a.token, syncBody(a.agentId, batch))
        // At the moment the reply arrives the rows are committed: another connection sees them.
        const visible = batch.every((rec) => has.get(a.agentId, rec.id) === 1)
        return { status: r.status, accepted: r.body.acks.accepted, visible }
      })))
      expect(replies.every((r) => r.status === 200 && r.accepted === 20 && r.visible)).toBe(true)
      const stats = c.app.fleet.committer.stats
      expect(stats.jobs - before.jobs).toBe(24)
      expect(stats.commits - before.commits).toBeLessThan(24)
      expect(stats.maxGroupJobs).toBeGreaterThan(1)
    } finally { reader.close() }
  })

  it('a group whose commit fails is committed again request by request: only the request holding the failing write fails (issue 11)', async () => {
    const poison = latencyRecord()
    stored().exec(`CREATE TRIGGER poison BEFORE INSERT ON result WHEN NEW.result_id = '${poison.id}' BEGIN SELECT RAISE(ABORT, 'injected disk failure'); END`)
    try {
      const [a, b] = agents as [EnrollReply, EnrollReply]
      const innocent = latencyBatch(10)
      const beside = latencyRecord()
      const [r1, r2] = await Promise.all([
        sync(c.url, a.token, syncBody(a.agentId, [beside, poison])),
        sync(c.url, b.token, syncBody(b.agentId, innocent))
      ])
      expect(r1.status).toBe(500)
      // Same group, but committed again on its own after the group failed: acknowledged and stored.
      expect(r2.status).toBe(200)
      expect(r2.body.acks.accepted).toBe(10)
      const count = stored().prepare('SELECT count(*) FROM result WHERE agent_id = ? AND result_id IN (' + innocent.map(() => '?').join(',') + ')').pluck()
      expect(count.get(b.agentId, ...innocent.map((r) => r.id))).toBe(10)
      // Nothing of the failing request is stored, not even its sound record.
      expect(stored().prepare('SELECT count(*) FROM result WHERE result_id IN (?, ?)').pluck().get(beside.id, poison.id)).toBe(0)
    } finally { stored().exec('DROP TRIGGER poison') }
    // The writer goes on.
    const [, b] = agents as [EnrollReply, EnrollReply]
    const again = await sync(c.url, b.token, syncBody(b.agentId, latencyBatch(3)))
    expect(again.body.acks.accepted).toBe(3)
  })
})
