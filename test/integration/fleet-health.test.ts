import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTempCollector, type TempCollector } from '../helpers/temp-collector.js'
import { backends } from '../helpers/stores.js'
import { call, enrolledAgent, sync, syncBody } from '../helpers/fleet-client.js'
import type { AgentView, EnrollReply } from '../../shared/schemas/fleet.js'

const ADMIN = 'health-admin-token-0123456789'

/**
 * Health states as the admin API reports them: online ≤ 900 s since the last sync, stale
 * ≤ 3,600 s, offline beyond, never before a first sync; the heartbeat's queue and clock
 * figures are the last ones received.
 */
describe.each(backends)('agent health from heartbeats on $name', (backend) => {
  let c: TempCollector
  const agents: EnrollReply[] = []
  beforeAll(async () => {
    c = await startTempCollector({ adminToken: ADMIN }, { backend })
    for (let i = 0; i < 5; i++) agents.push(await enrolledAgent(c.url, ADMIN, `h-${i}`))
    for (const a of agents.slice(0, 4)) {
      expect((await sync(c.url, a.token, syncBody(a.agentId, [], { queue: { pending: 42, oldestAgeS: 7200, dead: 2, bytes: 1000 }, clock: { offsetMs: 1500, sinceSyncS: 30 } }))).status).toBe(200)
    }
  })
  afterAll(async () => { await c?.close() })

  it('classifies by the age of the last sync', async () => {
    const now = Date.now()
    const [online, edge, stale, offline, never] = agents as [EnrollReply, EnrollReply, EnrollReply, EnrollReply, EnrollReply]
    // Heartbeats of the past: no API backdates one, so they are written to the database directly.
    for (const [agoMs, a] of [[899_000, edge], [3_599_000, stale], [3_601_000, offline]] as const) {
      await c.db.exec(`UPDATE agent SET last_sync_at = ${now - agoMs} WHERE id = '${a.agentId}'`)
    }
    const r = await call<{ agents: AgentView[] }>(`${c.url}/api/v1/admin/agents`, { token: ADMIN })
    const state = (id: string): AgentView | undefined => r.body.agents.find((a) => a.id === id)
    expect(state(online.agentId)).toMatchObject({ state: 'online', queuePending: 42, queueOldestAgeS: 7200, queueDead: 2, clockOffsetMs: 1500 })
    expect(state(edge.agentId)?.state).toBe('online')
    expect(state(stale.agentId)?.state).toBe('stale')
    expect(state(offline.agentId)?.state).toBe('offline')
    expect(state(never.agentId)).toMatchObject({ state: 'never', lastSeenAt: null, queuePending: null })
  })
})
