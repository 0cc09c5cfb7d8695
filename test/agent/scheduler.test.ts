import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { agentPhaseS, MIN_SPACING_S, planDay, SPREAD_S } from '../../agent/scheduler/plan.js'
import { Scheduler, type SlotEvent, type TaskKind } from '../../agent/scheduler/scheduler.js'
import { DEFAULT_SCHEDULE, type Schedule } from '../../shared/schedule.js'
import { TASK_KINDS } from '../../agent/task-kinds.js'
import { hhmmToS, vnDayStart, VN_OFFSET_MS } from '../../shared/vn-time.js'
import { budgetDecision, estimateTestBytes, monthlyBudgetBytes } from '../../agent/scheduler/budget.js'
import { quietLineGate } from '../../agent/scheduler/gate.js'
import type { InterfaceCounters } from '../../agent/platform/net-counters.js'

function fakeClock (startWall: number) {
  const c = {
    wallMs: startWall,
    monoMs: 0,
    wall: () => c.wallMs,
    mono: () => c.monoMs,
    sleep: async (ms: number) => { c.wallMs += ms; c.monoMs += ms; await Promise.resolve() },
    advance: (ms: number) => { c.wallMs += ms; c.monoMs += ms }
  }
  return c
}

function seeded (seed: number): () => number {
  let s = seed >>> 0
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32 }
}

const localS = (ms: number): number => ((ms + VN_OFFSET_MS) % 86_400_000) / 1000

describe('phase spread across a fleet', () => {
  for (const [label, ids] of [
    ['random UUIDs', Array.from({ length: 10_000 }, () => randomUUID())],
    ['sequential ids', Array.from({ length: 10_000 }, (_, i) => `agent-${String(i).padStart(5, '0')}`)]
  ] as const) {
    it(`10,000 ${label} give a near-uniform phase histogram (max bucket < 2 × mean)`, () => {
      const period = 14_400
      const buckets = new Array<number>(48).fill(0)
      for (const id of ids) buckets[Math.floor(agentPhaseS(id, period) / (period / 48))]! += 1
      const mean = ids.length / buckets.length
      expect(Math.max(...buckets)).toBeLessThan(2 * mean)
      expect(Math.min(...buckets)).toBeGreaterThan(0.5 * mean)
    })
  }
})

describe('day plan', () => {
  const windows = [['08:00', '11:30'], ['13:30', '17:00'], ['19:00', '23:00']].map(([a, b]) => [hhmmToS(a!), hhmmToS(b!) - SPREAD_S] as const)
  for (const n of [4, 5, 6]) {
    it(`${n} tests a day: every agent has one slot in each office window and the evening, spaced ≥ 36 min`, () => {
      for (let i = 0; i < 2000; i++) {
        const id = randomUUID()
        const plan = planDay(id, { ...DEFAULT_SCHEDULE, fullTestsPerDay: n })
        expect(plan).toHaveLength(n)
        for (const [from, to] of windows) expect(plan.some((s) => s.atS >= from && s.atS <= to), `${id} ${from}`).toBe(true)
        for (let k = 1; k < plan.length; k++) expect(plan[k]!.atS - plan[k - 1]!.atS).toBeGreaterThanOrEqual(MIN_SPACING_S)
        expect(plan.filter((s) => s.office)).toHaveLength(2)
        expect(planDay(id, { ...DEFAULT_SCHEDULE, fullTestsPerDay: n })).toEqual(plan)
      }
    })
  }
})

interface Run { kind: TaskKind, at: number, nominal: number, mono: number }

function harness ({ start = Date.parse('2026-03-02T00:00:00+07:00'), taskMs = { speed: 40_000, latency: 3000, ipv6: 5000, ipv6_only: 4000 } as Record<TaskKind, number>, kinds = ['speed', 'latency', 'ipv6'] as TaskKind[], schedule = DEFAULT_SCHEDULE as Schedule } = {}) {
  const clock = fakeClock(start)
  const runs: Run[] = []
  const missed: Record<string, number> = { speed: 0, latency: 0, ipv6: 0 }
  let running = 0
  let maxConcurrent = 0
  let hook: (() => void) | null = null
  const s = new Scheduler({
    agentId: 'b3c1c7f0-5f1a-4c1e-9b7d-0d3f6d2a9e11',
    clock,
    random: seeded(42),
    schedule: () => schedule,
    // The three kinds these cases were written for; the IPv6-only task has its own case below.
    kinds,
    execute: async (e: SlotEvent) => {
      running++; maxConcurrent = Math.max(maxConcurrent, running)
      runs.push({ kind: e.kind, at: clock.wallMs, nominal: e.nominalMs, mono: clock.monoMs })
      clock.advance(taskMs[e.kind])
      running--
      hook?.()
    },
    onMissed: (k, n) => { missed[k] = (missed[k] ?? 0) + n }
  })
  return { clock, runs, missed, s, maxConcurrent: () => maxConcurrent, setHook: (h: () => void) => { hook = h } }
}

async function runUntil (h: ReturnType<typeof harness>, stop: (h: ReturnType<typeof harness>) => boolean): Promise<void> {
  const ac = new AbortController()
  const origSleep = h.clock.sleep
  h.clock.sleep = async (ms: number) => { await origSleep(ms); if (stop(h)) ac.abort() }
  h.setHook(() => { if (stop(h)) ac.abort() })
  await h.s.run(ac.signal)
}

describe('scheduler loop (injected clock)', () => {
  it('runs 6 full tests, ~96 latency and ~24 IPv6 checks a day, one task at a time, with fresh spread each cycle', async () => {
    const h = harness()
    const end = h.clock.wallMs + 3 * 86_400_000
    await runUntil(h, (x) => x.clock.wallMs >= end)
    const count = (k: TaskKind): number => h.runs.filter((r) => r.kind === k).length
    expect(count('speed')).toBe(18)
    expect(count('latency')).toBeGreaterThanOrEqual(3 * 96 - 3)
    expect(count('ipv6')).toBeGreaterThanOrEqual(3 * 24 - 1)
    expect(h.maxConcurrent()).toBe(1)
    const speeds = h.runs.filter((r) => r.kind === 'speed')
    const spreads = speeds.map((r) => r.at - r.nominal)
    for (const sp of spreads) { expect(sp).toBeGreaterThanOrEqual(0); expect(sp).toBeLessThanOrEqual(SPREAD_S * 1000 + 60_000) }
    expect(new Set(spreads.map((x) => Math.round(x / 1000))).size).toBeGreaterThan(10)
    for (let d = 0; d < 3; d++) {
      const day = speeds.slice(d * 6, d * 6 + 6).map((r) => localS(r.at))
      expect(day.some((t) => t >= 8 * 3600 && t <= 11.5 * 3600)).toBe(true)
      expect(day.some((t) => t >= 13.5 * 3600 && t <= 17 * 3600)).toBe(true)
      expect(day.some((t) => t >= 19 * 3600 && t <= 23 * 3600)).toBe(true)
    }
    // Never on round cron minutes for every task: light checks carry their own phase and spread.
    const lat = h.runs.filter((r) => r.kind === 'latency').map((r) => Math.round(r.at / 1000) % 60)
    expect(new Set(lat).size).toBeGreaterThan(20)
    expect(h.missed).toEqual({ speed: 0, latency: 0, ipv6: 0 })
  })

  it('every registry task runs at its registry period: with the IPv6-only readiness task, 4 of those a day beside the others', async () => {
    const h = harness({ kinds: [...TASK_KINDS] })
    const end = h.clock.wallMs + 2 * 86_400_000
    await runUntil(h, (x) => x.clock.wallMs >= end)
    const count = (k: TaskKind): number => h.runs.filter((r) => r.kind === k).length
    expect(count('speed')).toBe(12)
    expect(count('ipv6_only')).toBeGreaterThanOrEqual(2 * 4 - 1)
    expect(count('ipv6_only')).toBeLessThanOrEqual(2 * 4)
    expect(count('ipv6')).toBeGreaterThanOrEqual(2 * 24 - 1)
    expect(h.maxConcurrent()).toBe(1)
  })

  it('the IPv6-only period comes from the schedule: a collector that sets ipv6OnlyEveryMin to 720 gets 2 a day', async () => {
    const h = harness({ kinds: [...TASK_KINDS], schedule: { ...DEFAULT_SCHEDULE, ipv6OnlyEveryMin: 720 } })
    const end = h.clock.wallMs + 2 * 86_400_000
    await runUntil(h, (x) => x.clock.wallMs >= end)
    const count = h.runs.filter((r) => r.kind === 'ipv6_only').length
    expect(count).toBeGreaterThanOrEqual(2 * 2 - 1)
    expect(count).toBeLessThanOrEqual(2 * 2)
  })

  it('after a 3 h suspend (wall jumps, monotonic does not) skips the missed slots without a burst', async () => {
    const h = harness()
    const suspendAt = h.clock.wallMs + 6 * 3_600_000
    let resumed = 0
    await runUntil(h, (x) => {
      if (resumed === 0 && x.clock.wallMs >= suspendAt) { x.clock.wallMs += 3 * 3_600_000; resumed = x.clock.wallMs }
      return resumed > 0 && x.clock.wallMs >= resumed + 2 * 3_600_000
    })
    const after = h.runs.filter((r) => r.at >= resumed)
    expect(after.every((r) => r.nominal >= resumed - 5 * 60_000)).toBe(true)
    expect(after.filter((r) => r.at < resumed + 60_000).length).toBeLessThanOrEqual(1)
    expect(h.missed.latency).toBeGreaterThanOrEqual(11)
    expect(h.missed.ipv6).toBeGreaterThanOrEqual(2)
  })

  it('a process blocked for 2 h (both clocks advance) skips late slots instead of replaying them', async () => {
    const h = harness()
    const blockAt = h.clock.wallMs + 3_600_000
    let unblocked = 0
    await runUntil(h, (x) => {
      if (unblocked === 0 && x.clock.wallMs >= blockAt) { x.clock.advance(2 * 3_600_000); unblocked = x.clock.wallMs }
      return unblocked > 0 && x.clock.wallMs >= unblocked + 3_600_000
    })
    const burst = h.runs.filter((r) => r.at >= unblocked && r.at < unblocked + 60_000)
    expect(burst.length).toBeLessThanOrEqual(1)
    expect(h.missed.latency).toBeGreaterThanOrEqual(7)
  })

  it('clock set back a day: no stall; forward a year: no burst and no phantom missed slots', async () => {
    const back = harness()
    let stepped = 0
    await runUntil(back, (x) => {
      if (stepped === 0 && x.clock.monoMs >= 3_600_000) { x.clock.wallMs -= 86_400_000; stepped = x.clock.monoMs }
      return stepped > 0 && x.clock.monoMs >= stepped + 3_600_000
    })
    const afterBack = back.runs.filter((r) => r.mono >= stepped)
    expect(afterBack.filter((r) => r.kind === 'latency').length).toBeGreaterThanOrEqual(3)
    expect(Math.min(...afterBack.map((r) => r.mono)) - stepped).toBeLessThan(16 * 60_000)

    const fwd = harness()
    let jumped = 0
    await runUntil(fwd, (x) => {
      if (jumped === 0 && x.clock.monoMs >= 3_600_000) { x.clock.wallMs += 365 * 86_400_000; jumped = x.clock.monoMs }
      return jumped > 0 && x.clock.monoMs >= jumped + 3_600_000
    })
    const afterFwd = fwd.runs.filter((r) => r.mono >= jumped)
    expect(afterFwd.filter((r) => r.mono < jumped + 60_000).length).toBeLessThanOrEqual(1)
    expect(afterFwd.filter((r) => r.kind === 'latency').length).toBeGreaterThanOrEqual(3)
    expect(fwd.missed).toEqual({ speed: 0, latency: 0, ipv6: 0 })
  })

  it('plans only the kinds that have a task and lists the upcoming slots', () => {
    const clock = fakeClock(Date.parse('2026-03-02T07:00:00+07:00'))
    const s = new Scheduler({ agentId: 'x', clock, random: () => 0, schedule: () => DEFAULT_SCHEDULE, kinds: ['speed'], execute: async () => {} })
    const up = s.upcoming()
    expect(up.map((e) => e.kind)).toEqual(['speed'])
    expect(up[0]!.nominalMs).toBeGreaterThan(clock.wallMs)
    expect(vnDayStart(up[0]!.nominalMs)).toBeGreaterThanOrEqual(vnDayStart(clock.wallMs))
  })
})

describe('monthly data budget', () => {
  const base = { estimateBytes: 500e6, budgetBytes: 30_000e6, slotsLeftOffice: 20, officeSlot: false }
  it('runs everything while the projection fits', () => {
    expect(budgetDecision({ ...base, usedBytes: 0, slotsLeftFull: 60 })).toEqual({ run: true, mode: 'full' })
  })
  it('drops to the office-window tests when the projection would overrun', () => {
    expect(budgetDecision({ ...base, usedBytes: 10_000e6, slotsLeftFull: 60 }).run).toBe(false)
    expect(budgetDecision({ ...base, usedBytes: 10_000e6, slotsLeftFull: 60, officeSlot: true })).toEqual({ run: true, mode: 'office-only' })
  })
  it('skips when even one test would exceed the budget', () => {
    expect(budgetDecision({ ...base, usedBytes: 29_800e6, slotsLeftFull: 2, officeSlot: true })).toMatchObject({ run: false, reason: expect.stringMatching(/monthly budget/) })
  })
  it('estimates a test from the month so far, else the line\'s measured rates, else the plan speeds', () => {
    expect(estimateTestBytes({ usage: { bytes: 900e6, tests: 3 }, planDownMbps: 1000, planUpMbps: 1000, maxSecondsPerDirection: 15 })).toBe(300e6)
    // 941 down, 941 up measured: 7 s per direction, not the plan × the 15 s cap.
    expect(estimateTestBytes({ usage: { bytes: 0, tests: 0 }, measured: { downMbps: 941, upMbps: 941 }, planDownMbps: 1000, planUpMbps: 1000, maxSecondsPerDirection: 15 })).toBeCloseTo(1882e6 / 8 * 7, -3)
    expect(estimateTestBytes({ usage: { bytes: 0, tests: 0 }, planDownMbps: 40, planUpMbps: 8, maxSecondsPerDirection: 15 })).toBe(90e6)
  })
  it('applies only where data is metered: mobile lines or an agency cap; a fixed line keeps every slot', () => {
    expect(monthlyBudgetBytes({ connectionClass: 'fixed', capMB: null })).toBeNull()
    expect(monthlyBudgetBytes({ connectionClass: null, capMB: null })).toBeNull()
    expect(monthlyBudgetBytes({ connectionClass: '4g', capMB: null })).toBe(10_000e6)
    expect(monthlyBudgetBytes({ connectionClass: 'fixed', capMB: 50_000 })).toBe(50_000e6)
    // A 1 Gbps fixed line six times a day all month: every slot runs, the evening included.
    expect(budgetDecision({ usedBytes: 300_000e6, estimateBytes: 1.6e9, budgetBytes: null, slotsLeftFull: 60, slotsLeftOffice: 20, officeSlot: false })).toEqual({ run: true, mode: 'full' })
  })
})

describe('quiet-line gate', () => {
  function counters (rate: (t: number) => number, clock: { mono: () => number }) {
    let total = 0
    let last = 0
    return async (): Promise<InterfaceCounters> => {
      const t = clock.mono()
      total += rate(last) * (t - last) / 1000
      last = t
      return { source: 'proc-net-dev', ifaces: { eth0: { rxBytes: Math.round(total), txBytes: 0 }, lo: { rxBytes: 1e12, txBytes: 0 } } }
    }
  }
  const idleCpu = (): { idle: number, total: number } => ({ idle: 1, total: 1 })

  it('passes after the line quietens within 30 s', async () => {
    const clock = fakeClock(0)
    const out = await quietLineGate({ counters: counters((t) => t < 10_000 ? 50_000 : 1000, clock), cpuTimes: idleCpu, sleep: clock.sleep, mono: clock.mono })
    expect(out.quiet).toBe(true)
    expect(out.waitedMs).toBeGreaterThanOrEqual(10_000)
    expect(out.waitedMs).toBeLessThanOrEqual(20_000)
  })

  it('gives up after 30 s of traffic above 25,000 B/s with the levels measured', async () => {
    const clock = fakeClock(0)
    const out = await quietLineGate({ counters: counters(() => 60_000, clock), cpuTimes: idleCpu, sleep: clock.sleep, mono: clock.mono })
    expect(out.quiet).toBe(false)
    expect(out.waitedMs).toBeGreaterThanOrEqual(30_000)
    expect(out.levels.bytesPerS).toBe(60_000)
    if (!out.quiet) expect(out.reason).toMatch(/60000 B\/s > 25000/)
  })

  it('counts the interface toward the test server, as the cross-traffic check does; loopback on its received side only', async () => {
    // eth0 carries 60,000 B/s that is not the test's (another network); eth1 is the route to the server and is quiet.
    const busyElsewhere = (clock: { mono: () => number }) => async (): Promise<InterfaceCounters> => {
      const t = clock.mono() / 1000
      return { source: 'proc-net-dev', ifaces: { eth0: { rxBytes: 60_000 * t, txBytes: 0 }, eth1: { rxBytes: 1000 * t, txBytes: 1000 * t }, lo: { rxBytes: 20_000 * t, txBytes: 20_000 * t } } }
    }
    let clock = fakeClock(0)
    const routed = await quietLineGate({ iface: 'eth1', counters: busyElsewhere(clock), cpuTimes: idleCpu, sleep: clock.sleep, mono: clock.mono })
    expect(routed).toMatchObject({ quiet: true, levels: { bytesPerS: 2000, iface: 'eth1' } })
    clock = fakeClock(0)
    const unknownRoute = await quietLineGate({ iface: null, counters: busyElsewhere(clock), cpuTimes: idleCpu, sleep: clock.sleep, mono: clock.mono })
    expect(unknownRoute.quiet).toBe(false)
    expect(unknownRoute.levels.bytesPerS).toBe(62_000)
    clock = fakeClock(0)
    const loopback = await quietLineGate({ iface: 'lo', counters: busyElsewhere(clock), cpuTimes: idleCpu, sleep: clock.sleep, mono: clock.mono })
    expect(loopback).toMatchObject({ quiet: true, levels: { bytesPerS: 20_000, iface: 'lo' } })
  })

  it('treats CPU above 30 % as busy and missing counters as unknown, not quiet traffic', async () => {
    const clock = fakeClock(0)
    let busy = 0
    const out = await quietLineGate({
      counters: async () => ({ source: 'unavailable', reason: 'no counters on win32', ifaces: {} }),
      cpuTimes: () => { busy += 1; return { idle: busy * 50, total: busy * 100 } },
      sleep: clock.sleep,
      mono: clock.mono
    })
    expect(out.quiet).toBe(false)
    expect(out.levels).toMatchObject({ bytesPerS: null, cpuPct: 50, countersUnavailable: 'no counters on win32' })
  })
})
