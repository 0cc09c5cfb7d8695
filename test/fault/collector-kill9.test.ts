import { afterAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { backends } from '../helpers/stores.js'
import { spawnCollector } from '../helpers/collector-process.js'
import { until } from '../helpers/until.js'
import { enrolledAgent, sync, syncBody } from '../helpers/fleet-client.js'
import { latencyBatch } from '../fixtures/records.js'
import type { ResultRecord } from '../../shared/schemas/result.js'
import type { EnrollReply } from '../../shared/schemas/fleet.js'

const ADMIN = 'fault-admin-token-0123456789abcdef'
const ENV = { TOCDO_ADMIN_TOKEN: ADMIN, TOCDO_SYNC_RATE_LIMIT_MAX: '100000', TOCDO_ENROL_RATE_LIMIT_PER_MIN: '1000' }

/**
 * T4 (fleet-protocol.md §17): the collector is SIGKILLed while agents post continuously,
 * some requests in the middle of a group commit. After a restart on the same data dir every
 * acknowledged result is present exactly once, the database passes integrity_check, and a
 * full replay of everything ever sent gets only accepted/duplicate, never a conflict. On both
 * stores: a collector on PostgreSQL killed mid-transaction leaves nothing half-committed either.
 */
describe.each(backends)('collector killed with SIGKILL mid-commit ($name)', ({ name, collectorDatabase }) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tocdo-kill9-'))
  afterAll(() => { rmSync(dataDir, { recursive: true, force: true }) })

  it('loses no acknowledged result and duplicates none', async () => {
    const store = await collectorDatabase(dataDir)
    const env = { ...ENV, ...store.env }
    const first = await spawnCollector({ dataDir, env })
    const agents: EnrollReply[] = []
    for (let i = 0; i < 6; i++) agents.push(await enrolledAgent(first.url, ADMIN, `pc-${i}`))

    const acked = new Map<string, Set<string>>() // agentId → result ids acknowledged
    const sent: Array<{ agent: EnrollReply, batch: ResultRecord[] }> = []
    const state = { stop: false }
    let errors = 0
    const loops = agents.map(async (agent) => {
      const mine = new Set<string>()
      acked.set(agent.agentId, mine)
      while (!state.stop) {
        const batch = latencyBatch(100)
        sent.push({ agent, batch })
        try {
          const r = await sync(first.url, agent.token, syncBody(agent.agentId, batch))
          if (r.status === 200) {
            for (const item of r.body.acks.items) if (item.status === 'accepted' || item.status === 'duplicate') mine.add(item.id as string)
          }
        } catch { errors++ } // the connection died with the process: nothing acknowledged
      }
    })
    // Kill once the load is well under way (a few hundred results acknowledged), whatever the machine's speed.
    await until(() => [...acked.values()].reduce((n, s) => n + s.size, 0) > 600, { what: '600 acknowledged results' })
    first.proc.kill('SIGKILL')
    expect(await first.exited).toBe('SIGKILL')
    state.stop = true
    await Promise.all(loops)
    const ackedTotal = [...acked.values()].reduce((n, s) => n + s.size, 0)
    expect(ackedTotal).toBeGreaterThan(500)
    expect(errors).toBeGreaterThan(0) // at least one request was cut off by the kill

    const second = await spawnCollector({ dataDir, env })
    try {
      // Replay everything, as agents whose acks were lost would.
      let conflicts = 0
      for (const { agent, batch } of sent) {
        const r = await sync(second.url, agent.token, syncBody(agent.agentId, batch))
        expect(r.status).toBe(200)
        conflicts += r.body.acks.conflict
        for (const item of r.body.acks.items) {
          if (acked.get(agent.agentId)?.has(item.id as string) === true) expect(item.status).toBe('duplicate')
        }
      }
      expect(conflicts).toBe(0)
    } finally {
      second.proc.kill('SIGTERM')
      await second.exited
    }

    try {
      if (name === 'sqlite') {
        const db = new Database(join(dataDir, 'collector.sqlite'), { readonly: true })
        try { expect(db.pragma('integrity_check', { simple: true })).toBe('ok') } finally { db.close() }
      }
      const stored = (await store.rows('result')).map((r) => `${r.agent_id as string}/${r.result_id as string}`)
      const distinct = new Set(stored)
      for (const [agentId, ids] of acked) for (const id of ids) expect(distinct.has(`${agentId}/${id}`)).toBe(true)
      expect(stored.length).toBe(distinct.size)
      expect(stored.length).toBe(sent.reduce((n, s) => n + s.batch.length, 0))
    } finally { await store.close() }
  })
})
