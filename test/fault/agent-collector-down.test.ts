import Database from 'better-sqlite3'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Outbox } from '../../agent/outbox/outbox.js'
import { skipRecord } from '../../agent/scheduler/skip-record.js'
import { until } from '../helpers/until.js'
import { spawnCollector, type CollectorProcess } from '../helpers/collector-process.js'
import { addAgency } from '../helpers/fleet-client.js'
import { FAST_AGENT_ENV, runAgent, spawnAgent } from '../helpers/agent-process.js'

/**
 * T1 with real processes: enrol through the CLI, produce results while the collector is down,
 * keep the daemon retrying, bring the collector back on the same port: every result arrives
 * exactly once and the outbox drains.
 */
const ADMIN = 'fault-admin-token-0123456789'
const COLLECTOR_ENV = { TOCDO_ADMIN_TOKEN: ADMIN, TOCDO_SYNC_RATE_LIMIT_MAX: '100000', TOCDO_NEXT_SYNC_S: '10' }

async function freePort (): Promise<number> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

describe('agent with the collector down for a while, then back', () => {
  const collectorDir = mkdtempSync(join(tmpdir(), 'tocdo-fault-c-'))
  const agentDir = mkdtempSync(join(tmpdir(), 'tocdo-fault-a-'))
  const procs: Array<{ kill: (s: NodeJS.Signals) => boolean }> = []
  afterAll(() => {
    for (const p of procs) p.kill('SIGKILL')
    rmSync(collectorDir, { recursive: true, force: true })
    rmSync(agentDir, { recursive: true, force: true })
  })

  it('every result produced while the collector was down arrives exactly once', async () => {
    const port = await freePort()
    let c: CollectorProcess = await spawnCollector({ dataDir: collectorDir, env: COLLECTOR_ENV, args: ['--port', String(port)] })
    procs.push(c.proc)
    const { enrolment } = await addAgency(c.url, ADMIN)

    // Enrolment through the CLI: identity stored 0600, the token never printed.
    const enrolled = await runAgent(['enroll', '--collector', c.url, '--code', enrolment.code.replace(/(.{4})(?!$)/g, '$1-'), '--data-dir', agentDir])
    expect(enrolled.code, enrolled.output).toBe(0)
    const identity = JSON.parse(readFileSync(join(agentDir, 'identity.json'), 'utf8')) as { agentId: string, token: string }
    expect(statSync(join(agentDir, 'identity.json')).mode & 0o777).toBe(0o600)
    expect(enrolled.output).toContain(identity.agentId)
    expect(enrolled.output).not.toContain(identity.token)
    // Enrolment is the install step: it also stores this machine's loopback ceiling.
    expect(enrolled.output).toMatch(/calibrated loopback ceiling \d+ \/ \d+ Mbps/)
    const calibration = JSON.parse(readFileSync(join(agentDir, 'calibration.json'), 'utf8')) as { loopbackDownloadMbps: number }
    expect(calibration.loopbackDownloadMbps).toBeGreaterThan(0)
    const reused = await runAgent(['enroll', '--collector', c.url, '--code', enrolment.code, '--data-dir', agentDir])
    expect(reused.output).toMatch(/already enrolled/)

    c.proc.kill('SIGTERM')
    await c.exited

    // Results made while the collector is down stay in the outbox.
    const once = await runAgent(['run', '--once', '--data-dir', agentDir, '--server', c.url, '--max-seconds', '2', '--pings', '5'], { env: FAST_AGENT_ENV })
    expect(once.code, once.output).toBe(3)
    expect(once.output).toMatch(/not delivered.*1 results waiting/)
    const ob = new Outbox(agentDir)
    for (let i = 0; i < 1100; i++) ob.add(skipRecord({ code: 'TEST', detail: `made offline ${i}`, measuredAt: new Date(), durationMs: 0, clock: { offsetMs: null, sinceSyncS: null }, context: {} }))
    const produced = (ob.db.prepare('SELECT result_id FROM outbox').all() as Array<{ result_id: string }>).map((r) => r.result_id)
    ob.close()
    expect(produced).toHaveLength(1101)

    const agent = spawnAgent(['run', '--data-dir', agentDir, '--server', c.url], { env: FAST_AGENT_ENV })
    procs.push(agent.proc)
    await until(() => agent.logs().filter((l) => l.msg === 'collector unreachable; results stay in the outbox').length >= 2, { what: 'two failed syncs' })
    const failures = agent.logs().filter((l) => l.msg === 'collector unreachable; results stay in the outbox').length
    expect(failures).toBeGreaterThanOrEqual(2)

    c = await spawnCollector({ dataDir: collectorDir, env: COLLECTOR_ENV, args: ['--port', String(port)] })
    procs.push(c.proc)
    const deadline = Date.now() + 60_000
    let stored: string[] = []
    const db = new Database(join(collectorDir, 'collector.sqlite'), { readonly: true })
    while (Date.now() < deadline) {
      stored = db.prepare('SELECT result_id FROM result WHERE agent_id = ?').pluck().all(identity.agentId) as string[]
      if (stored.length >= produced.length) break
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    db.close()
    expect(stored.length).toBe(produced.length)
    expect(new Set(stored)).toEqual(new Set(produced))
    // Drained in ≤ 500-result batches. Rows become visible a moment before the collector's
    // reply reaches the agent, so wait for the agent's own log of the last batch.
    await agent.waitForLog((l) => l.msg === 'synced' && l.sent === 101)
    const synced = agent.logs().filter((l) => l.msg === 'synced' && (l.sent as number) > 0)
    expect(synced.map((l) => l.sent)).toEqual([500, 500, 101])

    agent.proc.kill('SIGTERM')
    expect(await agent.exited).toBe(0)
    const status = await runAgent(['status', '--data-dir', agentDir])
    expect(status.output).toMatch(/0 waiting/)
    expect(status.output).toMatch(/last sync +\d{4}-/)
    expect(status.output).not.toContain(identity.token)
    c.proc.kill('SIGTERM')
    await c.exited
  })
})
