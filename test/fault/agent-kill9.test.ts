import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { backends, type CollectorDatabase } from '../helpers/stores.js'
import { Outbox } from '../../agent/outbox/outbox.js'
import { skipRecord } from '../../agent/scheduler/skip-record.js'
import { spawnCollector, type CollectorProcess } from '../helpers/collector-process.js'
import { enrolledAgent } from '../helpers/fleet-client.js'
import { FAST_AGENT_ENV, spawnAgent } from '../helpers/agent-process.js'

/**
 * T3 with real processes: the agent is SIGKILLed again and again while it uploads (before,
 * during and after the collector's commit). Nothing acknowledged is lost, nothing is stored
 * twice, and the outbox passes PRAGMA integrity_check after every kill. Also exercises the
 * `run --collector --token --agent-id` path (a token issued directly, no enrolment file).
 */
const ADMIN = 'fault-admin-token-0123456789'

describe.each(backends)('kill -9 of the agent mid-upload ($name)', ({ collectorDatabase }) => {
  let store: CollectorDatabase | undefined
  const collectorDir = mkdtempSync(join(tmpdir(), 'tocdo-k9-c-'))
  const agentDir = mkdtempSync(join(tmpdir(), 'tocdo-k9-a-'))
  let c: CollectorProcess | undefined
  afterAll(async () => {
    c?.proc.kill('SIGTERM')
    await c?.exited
    await store?.close()
    rmSync(collectorDir, { recursive: true, force: true })
    rmSync(agentDir, { recursive: true, force: true })
  })

  it('loses nothing acknowledged, duplicates nothing, keeps the outbox intact', async () => {
    store = await collectorDatabase(collectorDir)
    c = await spawnCollector({ dataDir: collectorDir, env: { ...store.env, TOCDO_ADMIN_TOKEN: ADMIN, TOCDO_SYNC_RATE_LIMIT_MAX: '100000' } })
    const { agentId, token } = await enrolledAgent(c.url, ADMIN)
    const ob = new Outbox(agentDir)
    for (let i = 0; i < 4000; i++) ob.add(skipRecord({ code: 'TEST', detail: `k9 ${i} ${'p'.repeat(300)}`, measuredAt: new Date(), durationMs: 0, clock: { offsetMs: null, sinceSyncS: null }, context: {} }))
    const produced = new Set((ob.db.prepare('SELECT result_id FROM outbox').all() as Array<{ result_id: string }>).map((r) => r.result_id))
    ob.close()

    const args = ['run', '--data-dir', agentDir, '--collector', c.url, '--token', token, '--agent-id', agentId, '--server', c.url]
    let kills = 0
    let duplicates = 0
    const pendingAfterKills: number[] = []
    for (let round = 0; round < 10; round++) {
      const a = spawnAgent(args, { env: FAST_AGENT_ENV })
      // The first batch is on the wire once the agent has logged its start; kill at a random point after.
      await a.waitForLog((l) => l.msg === 'agent started; waiting before the first network call')
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 400))
      a.proc.kill('SIGKILL')
      expect(await a.exited).toBe('SIGKILL')
      kills++
      duplicates += a.logs().filter((l) => l.msg === 'synced').reduce((n, l) => n + ((l.acks as { duplicate: number }).duplicate), 0)
      const check = new Outbox(agentDir)
      expect(check.integrityCheck()).toBe('ok')
      const left = check.stats()
      check.close()
      expect(left.dead).toBe(0)
      pendingAfterKills.push(left.pending)
      if (left.pending === 0) break
    }
    expect(kills).toBeGreaterThanOrEqual(2)

    // Let a last run drain whatever is left.
    const last = spawnAgent(args, { env: FAST_AGENT_ENV })
    const deadline = Date.now() + 60_000
    for (;;) {
      const o = new Outbox(agentDir); const pending = o.stats().pending; o.close()
      if (pending === 0) break
      if (Date.now() > deadline) throw new Error(`outbox not drained: ${pending} left\n${last.output().slice(-2000)}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    await last.waitForLog((l) => l.msg === 'agent started; waiting before the first network call')
    last.proc.kill('SIGTERM')
    expect(await last.exited).toBe(0)
    duplicates += last.logs().filter((l) => l.msg === 'synced').reduce((n, l) => n + ((l.acks as { duplicate: number }).duplicate), 0)

    const stored = (await store.rows('result')).filter((r) => r.agent_id === agentId).map((r) => r.result_id as string)
    expect(stored.length).toBe(produced.size)
    expect(new Set(stored)).toEqual(produced)
    // Acknowledged rows never come back after a restart.
    for (let i = 1; i < pendingAfterKills.length; i++) expect(pendingAfterKills[i]).toBeLessThanOrEqual(pendingAfterKills[i - 1]!)
    process.stdout.write(`kill -9 rounds ${kills}, pending after each ${pendingAfterKills.join(' ')}, duplicate acks seen ${duplicates}\n`)
    const final = new Outbox(agentDir)
    expect(final.stats()).toMatchObject({ pending: 0, dead: 0 })
    expect(final.integrityCheck()).toBe('ok')
    final.close()
  })
})
