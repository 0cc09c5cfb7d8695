import type { Logger } from 'pino'
import type { ResultRecord } from '../shared/schemas/result.js'
import type { AgentConfig } from './config.js'
import type { ProbeClock } from './measure/context.js'
import { LAST_TEST_META } from './outbox/meta-keys.js'
import type { Outbox } from './outbox/outbox.js'
import { budgetDecision, estimateTestBytes, monthlyBudgetBytes } from './scheduler/budget.js'
import { quietLineGate, type GateDeps } from './scheduler/gate.js'
import { interfaceToward } from './platform/link.js'
import { vnDaysLeftInMonth, vnMonth } from '../shared/vn-time.js'
import type { SlotEvent } from './scheduler/scheduler.js'
import { skipRecord } from './scheduler/skip-record.js'
import type { EffectiveConfig } from './sync/remote-config.js'
import type { FleetState } from './sync/sync-engine.js'
import type { TaskContext, TaskKind, TaskRegistry, TaskSpec } from './tasks.js'

/** Outbox meta key: the last full test's rates, for the next month's first budget estimate. */
const LAST_RATES_KEY = 'last_speed_rates'

/**
 * The run policy: what happens around one task run, the same for every kind. In order:
 * refuse when decommissioned or the outbox is full; for heavy tasks, stop when revoked, then
 * (unless a person asked for the run) the monthly data budget and the quiet-line gate, each of
 * which stores a skip record when it says no; run; store the record and what `status` shows;
 * for heavy tasks, account the bytes and keep the rates for the next estimate. Which kinds are
 * heavy is the task registry's word (agent/tasks.ts), never a branch on a kind here.
 */
export interface RunPolicyDeps {
  outbox: Outbox
  settings: Readonly<AgentConfig>
  clock: ProbeClock
  log: Logger
  /** Tasks the schedule may run, and every task for explicit runs. */
  scheduled: TaskRegistry
  all: TaskRegistry
  config: () => EffectiveConfig
  fleetState: () => FleetState
  clockInfo: () => ResultRecord['clock']
  servers: () => string[]
  context: { connectionClass: AgentConfig['connectionClass'], planDownMbps: number | null, planUpMbps: number | null }
  /** Full-test slots of this kind left between two times (the scheduler's count). */
  slotsBetween: (kind: TaskKind, fromMs: number, toMs: number) => number
  ceiling: () => Promise<{ downloadMbps: number, uploadMbps: number } | null>
  gate?: Partial<GateDeps>
  /** The signal of the current daemon run; an aborted run stores nothing. */
  signal: () => AbortSignal
}

export type Execute = (event: SlotEvent, opts?: { explicit?: boolean }) => Promise<ResultRecord | null>

export function createRunPolicy (d: RunPolicyDeps): { execute: Execute, store: (record: ResultRecord) => void } {
  const { outbox, settings, clock, log } = d
  const wall = (): number => clock.wall().getTime()

  const store = (record: ResultRecord): void => {
    const seq = outbox.add(record)
    // What `tocdo-agent status` shows as the last test, kept after the record is delivered.
    outbox.setMeta(LAST_TEST_META, JSON.stringify({
      kind: record.kind,
      status: record.status,
      at: record.measuredAt,
      downMbps: record.download?.mbps ?? null,
      upMbps: record.upload?.mbps ?? null,
      flags: record.flags,
      error: record.error === null ? null : `${record.error.code}: ${record.error.detail}`.slice(0, 300)
    }))
    log.info({ resultId: record.id, seq, kind: record.kind, status: record.status, error: record.error?.code }, 'result stored')
  }

  /** The line's last measured rates, for the first budget estimate of a month. */
  function lastMeasured (): { downMbps: number, upMbps: number } | null {
    try {
      const v = JSON.parse(outbox.getMeta(LAST_RATES_KEY) ?? 'null') as { downMbps?: unknown, upMbps?: unknown } | null
      return typeof v?.downMbps === 'number' && typeof v.upMbps === 'number' ? { downMbps: v.downMbps, upMbps: v.upMbps } : null
    } catch {
      return null
    }
  }

  /** The data budget: true to go on; false after storing the skip record. */
  function withinBudget (event: SlotEvent, clockInfo: ResultRecord['clock']): boolean {
    const cfg = d.config()
    const month = vnMonth(wall())
    const usage = outbox.usage(month)
    const daysLeft = vnDaysLeftInMonth(wall())
    const decision = budgetDecision({
      usedBytes: usage.bytes,
      estimateBytes: estimateTestBytes({ usage, measured: lastMeasured(), planDownMbps: d.context.planDownMbps, planUpMbps: d.context.planUpMbps, maxSecondsPerDirection: cfg.maxSecondsPerDirection }),
      budgetBytes: monthlyBudgetBytes({ connectionClass: d.context.connectionClass, capMB: settings.monthlyBudgetMB ?? cfg.monthlyBudgetMB ?? null }),
      slotsLeftFull: 1 + d.slotsBetween(event.kind, wall(), wall() + daysLeft * 86_400_000),
      slotsLeftOffice: daysLeft * cfg.schedule.officeHours.length,
      officeSlot: event.slot?.office ?? false
    })
    if (decision.run) return true
    outbox.bump('skippedBudget')
    store(skipRecord({ code: 'TOCDO_SKIP_BUDGET', detail: decision.reason, measuredAt: clock.wall(), durationMs: 0, clock: clockInfo, context: d.context }))
    return false
  }

  /** The quiet-line gate: true to go on; false when interrupted, or when busy (after storing the skip record). */
  async function lineQuiet (clockInfo: ResultRecord['clock']): Promise<boolean> {
    const signal = d.signal()
    const t0 = clock.now()
    const started = clock.wall()
    const server = d.servers()[0]
    const gate = await quietLineGate({
      iface: server === undefined ? null : await interfaceToward(server),
      sleep: clock.sleep,
      mono: clock.now,
      windowMs: settings.gateWindowS * 1000,
      maxWaitMs: settings.gateMaxWaitS * 1000,
      maxBytesPerS: settings.gateMaxBytesPerS,
      maxCpuPct: settings.gateMaxCpuPct,
      ...d.gate
    }, signal)
    if (signal.aborted) return false
    if (gate.quiet) return true
    outbox.bump('skippedCrossTraffic')
    log.warn({ levels: gate.levels, waitedS: Math.round(gate.waitedMs / 1000) }, 'line busy: full test deferred to the next slot')
    store(skipRecord({ code: 'TOCDO_SKIP_CROSS_TRAFFIC', detail: `${gate.reason}; levels ${JSON.stringify(gate.levels)}`, measuredAt: started, durationMs: clock.now() - t0, clock: clockInfo, context: d.context }))
    return false
  }

  /** Bytes of a full test against the month, and its rates for the next estimate. */
  function account (spec: TaskSpec, record: ResultRecord): void {
    if (!spec.heavy) return
    outbox.addUsage(vnMonth(wall()), (record.download?.bytes ?? 0) + (record.upload?.bytes ?? 0))
    if (record.download !== null && record.upload !== null) outbox.setMeta(LAST_RATES_KEY, JSON.stringify({ downMbps: record.download.mbps, upMbps: record.upload.mbps }))
  }

  async function execute (event: SlotEvent, { explicit = false }: { explicit?: boolean } = {}): Promise<ResultRecord | null> {
    // An explicit request (run --once) may run a kind the schedule leaves out.
    const spec = (explicit ? d.all : d.scheduled)[event.kind]
    if (spec === undefined) return null
    if (d.fleetState() === 'decommissioned') return null
    const cap = outbox.capState()
    if (cap.full) {
      outbox.bump('storageFull')
      log.warn({ kind: event.kind, reason: cap.reason }, 'outbox full: no new measurement; stored results are kept')
      return null
    }
    const clockInfo = d.clockInfo()
    if (spec.heavy) {
      if (d.fleetState() === 'revoked') { log.info({ kind: event.kind }, 'revoked by the collector: full tests stopped'); return null }
      if (!explicit && !withinBudget(event, clockInfo)) return null
      if (!explicit && !await lineQuiet(clockInfo)) return null
    }
    const cfg = d.config()
    const signal = d.signal()
    const ctx: TaskContext = {
      servers: d.servers(),
      clock,
      clockInfo,
      context: d.context,
      maxSecondsPerDirection: cfg.maxSecondsPerDirection,
      byteCapPerDirection: settings.byteCapMB * 1e6,
      pings: settings.pings,
      expectedMbps: d.context.planDownMbps,
      ceiling: spec.heavy ? await d.ceiling() : null,
      signal,
      settings
    }
    log.info({ kind: event.kind, server: ctx.servers[0] }, 'task starting')
    const record = await spec.run(ctx)
    if (signal.aborted) { log.info({ kind: event.kind }, 'stopping: interrupted measurement not stored'); return null }
    store(record)
    account(spec, record)
    return record
  }

  return { execute, store }
}
