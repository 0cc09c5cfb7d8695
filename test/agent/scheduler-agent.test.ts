import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { createAgent, type AgentDeps } from '../../agent/agent.js'
import { loadAgentConfig } from '../../agent/config.js'
import { systemClock } from '../../agent/measure/context.js'
import { skipRecord } from '../../agent/scheduler/skip-record.js'
import { DEFAULT_SCHEDULE } from '../../shared/schedule.js'
import type { TaskRegistry } from '../../agent/tasks.js'
import type { InterfaceCounters } from '../../agent/platform/net-counters.js'
import { ackAll, startStatusServer } from '../helpers/status-server.js'

/** The wiring around a scheduled task: outbox cap, revocation, data budget, quiet-line gate, storage of the record. */

// A fixed date, so the month's remaining slots (and with them the budget decision) are the same
// on any day the suite runs: 10:00 ICT on 10 March 2026, a Tuesday in office hours.
const FIXED_WALL_MS = Date.parse('2026-03-10T03:00:00Z')
const fixedClock = { ...systemClock, wall: () => new Date(FIXED_WALL_MS) }
const cleanups: Array<() => unknown> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

function fakeRecord (kind: 'speed' | 'latency', bytes = 0) {
  const r = { ...skipRecord({ code: 'X', detail: 'x', measuredAt: new Date(), durationMs: 10, clock: { offsetMs: null, sinceSyncS: null }, context: {} }), kind, status: 'ok' as const, error: null }
  return kind === 'speed' ? { ...r, download: { bytes: bytes / 2 }, upload: { bytes: bytes / 2 } } as unknown as typeof r : r
}

async function build (over: Partial<AgentDeps> = {}, settings: Record<string, unknown> = {}, traffic = 0) {
  const dir = mkdtempSync(join(tmpdir(), 'tocdo-wiring-'))
  const peer = await startStatusServer((req) => ackAll(req))
  const runs: string[] = []
  const tasks: TaskRegistry = {
    speed: { kind: 'speed', heavy: true, run: async () => { runs.push('speed'); return fakeRecord('speed', 200e6) } },
    latency: { kind: 'latency', heavy: false, run: async () => { runs.push('latency'); return fakeRecord('latency') } }
  }
  let total = 0
  const counters = async (): Promise<InterfaceCounters> => { total += traffic * 0.05; return { source: 'proc-net-dev', ifaces: { eth0: { rxBytes: Math.round(total), txBytes: 0 } } } }
  const agent = createAgent({
    dataDir: dir,
    collector: peer.url,
    token: 'T'.repeat(40),
    agentId: 'agent-w',
    settings: loadAgentConfig({ flags: { dataDir: dir, gateWindowS: 0.05, gateMaxWaitS: 0.2, ...settings } }),
    agency: null,
    clock: fixedClock,
    log: pino({ level: 'silent' }),
    tasks,
    // The gate counts the interface toward the test server: here eth0 stands for it.
    gate: { counters, iface: 'eth0', cpuTimes: () => ({ idle: 0, total: 0 }) },
    ...over
  })
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => { agent.close() }, async () => { await peer.close() })
  return { agent, runs, dir, peer }
}

// The quiet- and busy-line cases are about the gate, so the data budget must not decide for
// them: early in a month the default budget keeps only office-hours slots (budget.ts).
const ROOMY_BUDGET = { monthlyBudgetMB: 1_000_000 }
const ev = (kind: 'speed' | 'latency') => ({ kind, nominalMs: FIXED_WALL_MS, atMs: FIXED_WALL_MS })

describe('agent wiring around scheduled tasks', () => {
  it('a quiet line: the full test runs, its record is stored and its bytes counted against the budget', async () => {
    const { agent, runs } = await build({}, ROOMY_BUDGET)
    await agent.execute(ev('speed'))
    expect(runs).toEqual(['speed'])
    expect(agent.outbox.stats().pending).toBe(1)
    expect(agent.outbox.usage('2026-03')).toEqual({ bytes: 200e6, tests: 1 })
  })

  it('a busy line: no test; a skip result with the measured levels, counted', async () => {
    const { agent, runs } = await build({}, ROOMY_BUDGET, 60_000)
    await agent.execute(ev('speed'))
    expect(runs).toEqual([])
    const row = agent.outbox.nextBatch(10, 1 << 20)[0]!
    const rec = JSON.parse(row.body) as { kind: string, status: string, error: { code: string, detail: string } }
    expect(rec).toMatchObject({ kind: 'skip', status: 'skipped', error: { code: 'TOCDO_SKIP_CROSS_TRAFFIC' } })
    expect(rec.error.detail).toMatch(/"bytesPerS":\d{5}/)
    expect(agent.outbox.counters().skippedCrossTraffic).toBe(1)
    // Light checks are not gated.
    await agent.execute(ev('latency'))
    expect(runs).toEqual(['latency'])
  })

  it('over the monthly budget: skipped and counted, light checks go on', async () => {
    const { agent, runs } = await build({}, { monthlyBudgetMB: 100, planDownMbps: 100 })
    await agent.execute(ev('speed'))
    await agent.execute(ev('latency'))
    expect(runs).toEqual(['latency'])
    expect(agent.outbox.counters().skippedBudget).toBe(1)
    const kinds = agent.outbox.nextBatch(10, 1 << 20).map((r) => JSON.parse(r.body) as { kind: string, error: { code: string } | null })
    expect(kinds[0]).toMatchObject({ kind: 'skip', error: { code: 'TOCDO_SKIP_BUDGET' } })
  })

  it('outbox at its cap: nothing new starts, the stored rows stay, storageFull counted', async () => {
    const { agent, runs } = await build({ outboxLimits: { maxRows: 2 } })
    await agent.execute(ev('latency')); await agent.execute(ev('latency'))
    await agent.execute(ev('speed')); await agent.execute(ev('latency'))
    expect(runs).toEqual(['latency', 'latency'])
    expect(agent.outbox.stats().pending).toBe(2)
    expect(agent.outbox.counters().storageFull).toBe(2)
  })

  it('revoked: full tests stop, light checks continue', async () => {
    const { agent, runs, peer } = await build()
    peer.respond(() => ({ status: 403, body: { code: 'TOCDO_ERR_AGENT_REVOKED', message: 'revoked' } }))
    await agent.engine.syncOnce()
    await agent.execute(ev('speed')); await agent.execute(ev('latency'))
    expect(runs).toEqual(['latency'])
  })

  it('one agent per data dir; a config from the collector is persisted and used', async () => {
    const { agent, dir, peer } = await build()
    expect(() => createAgent({ dataDir: dir, collector: peer.url, token: 'T'.repeat(40), agentId: 'agent-w', settings: loadAgentConfig({ flags: { dataDir: dir } }), agency: null, clock: systemClock, log: pino({ level: 'silent' }) })).toThrow(/already running/)
    const config = { version: 3, schedule: { ...DEFAULT_SCHEDULE, fullTestsPerDay: 4 }, servers: ['http://127.0.0.1:9'], monthlyBudgetMB: 5000, maxSecondsPerDirection: 10 }
    peer.respond((req) => ackAll(req, 'accepted', { config }))
    await agent.engine.syncOnce()
    expect(agent.config()).toMatchObject({ version: 3, monthlyBudgetMB: 5000, servers: ['http://127.0.0.1:9'] })
    expect(JSON.parse(readFileSync(join(dir, 'remote-config.json'), 'utf8'))).toEqual(config)
    agent.close()
    expect(existsSync(join(dir, 'agent.lock'))).toBe(false)
  })
})
