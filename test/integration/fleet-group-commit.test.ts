import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTempCollector, type TempCollector } from '../helpers/temp-collector.js'
import { backends } from '../helpers/stores.js'
import { enrolledAgent, sync, syncBody } from '../helpers/fleet-client.js'
import { latencyBatch, latencyRecord } from '../fixtures/records.js'
import type { EnrollReply } from '../../shared/schemas/fleet.js'

const ADMIN = 'group-commit-admin-token-0123456789'

/**
 * Group commit: concurrent requests share transactions, each is answered only once its
 * items are committed (visible to another connection), and a failed commit fails every
 * request of its group with nothing of them stored. On both stores.
 */
describe.each(backends)('group commit ($name)', (backend) => {
  let c: TempCollector
  const agents: EnrollReply[] = []
  /** The stored result ids (agent/result), read on a connection of the test's own. */
  const storedIds = async (): Promise<Set<string>> => new Set((await c.db.rows('result')).map((r) => `${r.agent_id as string}/${r.result_id as string}`))
  beforeAll(async () => {
    c = await startTempCollector({ adminToken: ADMIN, commitIntervalMs: 40, syncRateLimitMax: 10_000, enrolRateLimitPerMin: 1000 }, { backend })
    for (let i = 0; i < 8; i++) agents.push(await enrolledAgent(c.url, ADMIN, `gc-${i}`))
  })
  afterAll(async () => {
    await c?.close()
  })

  it('commits concurrent requests together and answers each after its commit', async () => {
    const before = { ...c.app.fleet.committer.stats }
    const replies = await Promise.all(agents.flatMap((a) => [0, 1, 2].map(async () => {
      const batch = latencyBatch(20)
      const r = await sync(c.url, a.token, syncBody(a.agentId, batch))
      // At the moment the reply arrives the rows are committed: another connection sees them.
      const stored = await storedIds()
      const visible = batch.every((rec) => stored.has(`${a.agentId}/${rec.id}`))
      return { status: r.status, accepted: r.body.acks.accepted, visible }
    })))
    expect(replies.every((r) => r.status === 200 && r.accepted === 20 && r.visible)).toBe(true)
    const stats = c.app.fleet.committer.stats
    expect(stats.jobs - before.jobs).toBe(24)
    expect(stats.commits - before.commits).toBeLessThan(24)
    expect(stats.maxGroupJobs).toBeGreaterThan(1)
  })

  it('a group whose commit fails is committed again request by request: only the request holding the failing write fails (issue 11)', async () => {
    const poison = latencyRecord()
    // A write that fails inside the commit, as a full or failing disk would.
    await c.db.exec(backend.name === 'sqlite'
      ? `CREATE TRIGGER poison BEFORE INSERT ON result WHEN NEW.result_id = '${poison.id}' BEGIN SELECT RAISE(ABORT, 'injected disk failure'); END`
      : `CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.result_id = '${poison.id}' THEN RAISE EXCEPTION 'injected disk failure'; END IF; RETURN NEW; END $$;
         CREATE TRIGGER poison BEFORE INSERT ON result FOR EACH ROW EXECUTE FUNCTION poison()`)
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
      const stored = await storedIds()
      expect(innocent.filter((r) => stored.has(`${b.agentId}/${r.id}`))).toHaveLength(10)
      // Nothing of the failing request is stored, not even its sound record.
      expect([beside, poison].filter((r) => stored.has(`${a.agentId}/${r.id}`))).toEqual([])
    } finally { await c.db.exec(backend.name === 'sqlite' ? 'DROP TRIGGER poison' : 'DROP TRIGGER poison ON result; DROP FUNCTION poison()') }
    // The writer goes on.
    const [, b] = agents as [EnrollReply, EnrollReply]
    const again = await sync(c.url, b.token, syncBody(b.agentId, latencyBatch(3)))
    expect(again.body.acks.accepted).toBe(3)
  })
})
