import { afterEach, describe, expect, it } from 'vitest'
import { record, seededStores, type StoresFixture } from './report-fixtures.js'
import { backends, type TestStores } from '../helpers/stores.js'
import type { Agency, AgentRow, AgentSeen, PreparedBatch } from '../../collector/storage/stores.js'
import type { ResultRecord } from '../../shared/schemas/result.js'

/**
 * The ResultStore's group commit on every backend (collector/storage/sqlite/results.ts,
 * collector/storage/postgres/results.ts): exactly once on (agent, result id), duplicate against
 * conflict by the payload hash, and one transaction for a whole group with its projections
 * (rollups, IPv6 evidence) and heartbeats.
 */
describe.each(backends)('ResultStore.commitGroup ($name)', ({ name, open }) => {
  let f: StoresFixture<TestStores> | undefined
  afterEach(async () => { await f?.close(); f = undefined })

  const setUp = async (): Promise<{ f: StoresFixture<TestStores>, agency: Agency, a1: AgentRow, a2: AgentRow, batch: (agent: AgentRow, records: unknown[]) => PreparedBatch }> => {
    const fx = await seededStores(open)
    f = fx
    const agency = await fx.agency('A', '23281', { category: 'organisation', connectionClass: 'fixed', isp: 'VNPT' })
    return {
      f: fx,
      agency,
      a1: await fx.agent(agency, 'a1'),
      a2: await fx.agent(agency, 'a2'),
      batch: (agent, records) => fx.ingestor.prepare(agent, agency, records, Date.parse('2026-11-01T00:00:00Z'))
    }
  }
  const count = async (fx: StoresFixture<TestStores>, table: string): Promise<number> => (await fx.stores.rows(table)).length
  const heartbeat = (agentId: string, at: number, pending: number): AgentSeen => ({
    kind: 'heartbeat',
    agentId,
    at,
    heartbeat: { agentVersion: '9.9.9', configVersion: 3, uptimeS: 60, queue: { pending, oldestAgeS: 30, dead: 0, bytes: 900 }, counters: { missedSlots: 1 }, clock: { offsetMs: -40, sinceSyncS: 20 } }
  })
  /** A write the group's transaction makes fails, as a full disk would: a trigger on the agent's heartbeat, in the backend's dialect. */
  const failHeartbeatsOf = async (fx: StoresFixture<TestStores>, agentId: string): Promise<void> => {
    await fx.stores.exec(name === 'sqlite'
      ? `CREATE TRIGGER failing_heartbeat BEFORE UPDATE ON agent WHEN NEW.id = '${agentId}' BEGIN SELECT RAISE(ABORT, 'write failed'); END`
      : `CREATE FUNCTION fail_heartbeat () RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'write failed'; END $$;
         CREATE TRIGGER failing_heartbeat BEFORE UPDATE ON agent FOR EACH ROW WHEN (NEW.id = '${agentId}') EXECUTE FUNCTION fail_heartbeat()`)
  }

  it('accepted, duplicate, conflict and rejected, each item answered in its place; the first copy is kept', async () => {
    const { f, a1, a2, batch } = await setUp()
    const first = record({ at: '2026-10-05 09:00', down: 100, up: 40, idle: 10 })
    const other = record({ at: '2026-10-05 10:00', down: 200, up: 40, idle: 10 })
    const c1 = await f.stores.results.commitGroup([
      { batch: batch(a1, [first, { not: 'a record' }, other]), seen: null },
      // The same result id from another agent is another result.
      { batch: batch(a2, [first]), seen: null }
    ])
    expect(c1.outcomes.map((o) => [o.accepted, o.duplicate, o.conflict, o.rejected])).toEqual([[2, 0, 0, 1], [1, 0, 0, 0]])
    expect(c1.outcomes[0]!.items.map((i) => i.status)).toEqual(['accepted', 'rejected', 'accepted'])
    const changed: ResultRecord = { ...first, download: { ...first.download!, mbps: 999 } }
    const c2 = await f.stores.results.commitGroup([{ batch: batch(a1, [changed, first, other]), seen: null }])
    expect(c2.outcomes[0]!.items.map((i) => i.status)).toEqual(['conflict', 'duplicate', 'duplicate'])
    const results = await f.stores.rows('result')
    expect(results).toHaveLength(3)
    expect(results.find((r) => r.agent_id === a1.id && r.result_id === first.id)?.download_mbps).toBe(100)
    // The rollups count each stored result once: 2 of a1, 1 of a2.
    expect((await f.stores.rows('rollup_agent_month')).reduce((n, r) => n + (r.n_results as number), 0)).toBe(3)
    expect(c2.commitMs).toBeGreaterThanOrEqual(0)
    expect(c2.syncMs).toBeGreaterThanOrEqual(0)
  })

  it('stores each job\'s heartbeat, or only that the agent was seen, in the group\'s transaction', async () => {
    const { f, a1, a2, batch } = await setUp()
    const at = Date.parse('2026-11-01T00:00:00Z')
    await f.stores.results.commitGroup([
      { batch: batch(a1, [record({ at: '2026-10-05 09:00', down: 100 })]), seen: heartbeat(a1.id, at, 7) },
      { batch: batch(a2, []), seen: { kind: 'seen', agentId: a2.id, at: at + 1 } }
    ])
    const agents = new Map((await f.stores.fleet.listAgents()).map((a) => [a.id, a]))
    expect(agents.get(a1.id)).toMatchObject({ lastSeenAt: at, lastSyncAt: at, agentVersion: '9.9.9', configVersion: 3, queuePending: 7, clockOffsetMs: -40, clockSinceSyncS: 20 })
    expect(agents.get(a2.id)).toMatchObject({ lastSeenAt: at + 1, lastSyncAt: null, queuePending: null })
  })

  it('one failing write rolls back the whole group: results, rollups, IPv6 evidence and heartbeats of every job', async () => {
    const { f, a1, a2, batch } = await setUp()
    const at = Date.parse('2026-11-01T00:00:00Z')
    await failHeartbeatsOf(f, a2.id)
    const v6 = record({ at: '2026-10-05 09:00', down: 100 })
    v6.server = { ...v6.server!, family: 6 }
    await expect(f.stores.results.commitGroup([
      { batch: batch(a1, [v6]), seen: heartbeat(a1.id, at, 1) },
      { batch: batch(a2, [record({ at: '2026-10-05 10:00', down: 50 })]), seen: heartbeat(a2.id, at, 1) }
    ])).rejects.toThrow('write failed')
    for (const table of ['result', 'rollup_agent_hour', 'rollup_agent_month', 'ipv6_evidence']) expect(await count(f, table), table).toBe(0)
    expect((await f.stores.fleet.listAgents()).find((a) => a.id === a1.id)?.lastSyncAt).toBeNull()
    // The same job alone commits, with its evidence (a speed test over IPv6 says IPv6 works).
    await f.stores.results.commitGroup([{ batch: batch(a1, [v6]), seen: heartbeat(a1.id, at, 1) }])
    expect(await count(f, 'result')).toBe(1)
    expect((await f.stores.rows('ipv6_evidence'))[0]?.connected).toBe(1)
  })

  it('retention deletes results measured before the cutoff, at most `limit` per call, and keeps the rollups', async () => {
    const { f, a1, batch } = await setUp()
    await f.stores.results.commitGroup([{
      batch: batch(a1, [
        record({ at: '2026-09-01 09:00', down: 10 }), record({ at: '2026-09-02 09:00', down: 20 }), record({ at: '2026-09-03 09:00', down: 30 }),
        record({ at: '2026-10-05 09:00', down: 40 })
      ]),
      seen: null
    }])
    const before = await f.stores.rows('rollup_agent_month')
    const cutoff = Date.parse('2026-10-01T00:00:00+07:00')
    expect(await f.stores.results.deleteResultsBefore(cutoff, 2)).toBe(2)
    expect(await f.stores.results.deleteResultsBefore(cutoff, 2)).toBe(1)
    expect(await f.stores.results.deleteResultsBefore(cutoff, 2)).toBe(0)
    expect(await count(f, 'result')).toBe(1)
    expect(await f.stores.rows('rollup_agent_month')).toEqual(before)
  })
})
