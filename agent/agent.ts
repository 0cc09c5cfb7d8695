import type { Logger } from 'pino'
import type { EnrolledAgency, AgentRemoteConfig } from '../shared/schemas/fleet.js'
import type { ResultRecord } from '../shared/schemas/result.js'
import type { AgentConfig } from './config.js'
import { postSync } from './delivery/fleet-client.js'
import type { ProbeClock } from './measure/context.js'
import { acquireLock } from './outbox/lock.js'
import { Outbox, type OutboxLimits } from './outbox/outbox.js'
import { LAST_TEST_META } from './outbox/meta-keys.js'
import { budgetDecision, estimateTestBytes, monthlyBudgetBytes } from './scheduler/budget.js'
import { quietLineGate, type GateDeps } from './scheduler/gate.js'
import { localDaysLeftInMonth, localMonth } from './scheduler/local-time.js'
import { Scheduler, type SlotEvent } from './scheduler/scheduler.js'
import { skipRecord } from './scheduler/skip-record.js'
import { ClockEstimator } from './sync/clock-estimator.js'
import { builtinConfig, fromRemote, loadRemoteConfig, saveRemoteConfig, type EffectiveConfig } from './sync/remote-config.js'
import { SyncEngine, type FleetState, type SyncEngineDeps, type SyncStep } from './sync/sync-engine.js'
import { defaultTasks, type TaskContext, type TaskRegistry } from './tasks.js'
import { readCalibration } from './measure/calibration.js'

/** Outbox meta key: the last full test's rates, for the next month's first budget estimate. */
const LAST_RATES_KEY = 'last_speed_rates'

/**
 * Wires one running agent: lock, outbox, remote config, clock estimator, sync engine, task
 * registry and scheduler. Everything with I/O or time is a dependency, so tests build the
 * same agent with a fake clock, a fake random source or a loopback collector.
 */
export interface AgentDeps {
  dataDir: string
  collector: string
  token: string
  agentId: string
  settings: Readonly<AgentConfig>
  agency: EnrolledAgency | null
  clock: ProbeClock
  log: Logger
  random?: () => number
  tasks?: TaskRegistry
  post?: SyncEngineDeps['post']
  gate?: Partial<GateDeps>
  outboxLimits?: Partial<OutboxLimits>
  /** This machine's calibrated ceiling; defaults to the one `enroll`/`calibrate` stored in dataDir. */
  ceiling?: () => Promise<{ downloadMbps: number, uploadMbps: number } | null>
}

export interface Agent {
  readonly outbox: Outbox
  readonly engine: SyncEngine
  readonly scheduler: Scheduler
  config: () => EffectiveConfig
  /** The daemon: start-up delay, then the sync loop and the scheduler until `signal` aborts or the collector decommissions the agent. */
  run: (signal: AbortSignal) => Promise<'stopped' | 'decommissioned'>
  /** Sync (for the clock), one full test now, store it, sync until the outbox is drained or the collector stops taking results. */
  once: (signal: AbortSignal) => Promise<{ record: ResultRecord | null, step: SyncStep }>
  execute: (event: SlotEvent, opts?: { explicit?: boolean }) => Promise<ResultRecord | null>
  close: () => void
}

export function createAgent (deps: AgentDeps): Agent {
  const { settings, clock, log, dataDir } = deps
  const calibrated = deps.ceiling ?? (async () => {
    const c = await readCalibration(dataDir)
    if (c === null) log.warn('no calibration stored: client_limited can use only the CPU rules; run `tocdo-agent calibrate`')
    return c === null ? null : { downloadMbps: c.loopbackDownloadMbps, uploadMbps: c.loopbackUploadMbps }
  })
  const random = deps.random ?? Math.random
  const registry = deps.tasks ?? defaultTasks()
  const tasks: TaskRegistry = Object.fromEntries(Object.entries(registry).filter(([k]) => (settings.tasks as string[]).includes(k)))
  const wall = (): number => clock.wall().getTime()
  const lock = acquireLock(dataDir)
  let outbox: Outbox
  try { outbox = new Outbox(dataDir, { now: wall, ...(deps.outboxLimits === undefined ? {} : { limits: deps.outboxLimits }) }) } catch (err) { lock.release(); throw err }

  const saved = loadRemoteConfig(dataDir)
  if (saved.problem !== null) log.error({ problem: saved.problem }, 'stored remote config ignored; using the built-in default until the collector sends one')
  let remote: AgentRemoteConfig | null = saved.config
  const config = (): EffectiveConfig => remote === null ? builtinConfig(settings.maxSecondsPerDirection) : fromRemote(remote)

  const estimator = new ClockEstimator(clock.now)
  const startedMono = clock.now()
  const engine = new SyncEngine({
    outbox,
    collector: deps.collector,
    token: deps.token,
    agentId: deps.agentId,
    clock: { wall, mono: clock.now },
    random,
    estimator,
    post: deps.post ?? postSync,
    log,
    configVersion: () => remote?.version ?? null,
    applyConfig: (c) => { saveRemoteConfig(dataDir, c); remote = c; scheduler.replan() },
    startedMono,
    intervalMs: settings.syncIntervalS * 1000,
    backoffBaseMs: settings.backoffBaseS * 1000,
    backoffCapMs: settings.backoffCapS * 1000
  })

  const connectionClass = settings.connectionClass ?? deps.agency?.connectionClass ?? null
  const planDownMbps = settings.planDownMbps ?? deps.agency?.planDownMbps ?? null
  const planUpMbps = settings.planUpMbps ?? deps.agency?.planUpMbps ?? null
  const recordContext = { connectionClass, planDownMbps, planUpMbps }

  const servers = (): string[] => settings.servers.length > 0 ? [...settings.servers] : config().servers.length > 0 ? config().servers : [deps.collector]

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

  let currentSignal: AbortSignal = new AbortController().signal

  /** The line's last measured rates, for the first budget estimate of a month. */
  function lastMeasured (): { downMbps: number, upMbps: number } | null {
    try {
      const v = JSON.parse(outbox.getMeta(LAST_RATES_KEY) ?? 'null') as { downMbps?: unknown, upMbps?: unknown } | null
      return typeof v?.downMbps === 'number' && typeof v.upMbps === 'number' ? { downMbps: v.downMbps, upMbps: v.upMbps } : null
    } catch {
      return null
    }
  }

  async function execute (event: SlotEvent, { explicit = false }: { explicit?: boolean } = {}): Promise<ResultRecord | null> {
    // An explicit request (run --once) may run a kind the schedule leaves out.
    const spec = (explicit ? registry : tasks)[event.kind]
    if (spec === undefined) return null
    if (engine.state === 'decommissioned') return null
    const cap = outbox.capState()
    if (cap.full) {
      outbox.bump('storageFull')
      log.warn({ kind: event.kind, reason: cap.reason }, 'outbox full: no new measurement; stored results are kept')
      return null
    }
    const clockInfo = estimator.get()
    if (spec.heavy) {
      if (engine.state === 'revoked') { log.info({ kind: event.kind }, 'revoked by the collector: full tests stopped'); return null }
      if (!explicit) {
        const cfg = config()
        const month = localMonth(wall())
        const usage = outbox.usage(month)
        const decision = budgetDecision({
          usedBytes: usage.bytes,
          estimateBytes: estimateTestBytes({ usage, measured: lastMeasured(), planDownMbps, planUpMbps, maxSecondsPerDirection: cfg.maxSecondsPerDirection }),
          budgetBytes: monthlyBudgetBytes({ connectionClass, capMB: settings.monthlyBudgetMB ?? cfg.monthlyBudgetMB ?? null }),
          slotsLeftFull: 1 + scheduler.countBetween('speed', wall(), wall() + localDaysLeftInMonth(wall()) * 86_400_000),
          slotsLeftOffice: localDaysLeftInMonth(wall()) * cfg.schedule.officeHours.length,
          officeSlot: event.slot?.office ?? false
        })
        if (!decision.run) {
          outbox.bump('skippedBudget')
          store(skipRecord({ code: 'TOCDO_SKIP_BUDGET', detail: decision.reason, measuredAt: clock.wall(), durationMs: 0, clock: clockInfo, context: recordContext }))
          return null
        }
        const t0 = clock.now()
        const started = clock.wall()
        const gate = await quietLineGate({
          sleep: clock.sleep,
          mono: clock.now,
          windowMs: settings.gateWindowS * 1000,
          maxWaitMs: settings.gateMaxWaitS * 1000,
          maxBytesPerS: settings.gateMaxBytesPerS,
          maxCpuPct: settings.gateMaxCpuPct,
          ...deps.gate
        }, currentSignal)
        if (currentSignal.aborted) return null
        if (!gate.quiet) {
          outbox.bump('skippedCrossTraffic')
          log.warn({ levels: gate.levels, waitedS: Math.round(gate.waitedMs / 1000) }, 'line busy: full test deferred to the next slot')
          store(skipRecord({ code: 'TOCDO_SKIP_CROSS_TRAFFIC', detail: `${gate.reason}; levels ${JSON.stringify(gate.levels)}`, measuredAt: started, durationMs: clock.now() - t0, clock: clockInfo, context: recordContext }))
          return null
        }
      }
    }
    const cfg = config()
    const ceiling = spec.heavy ? await calibrated() : null
    const ctx: TaskContext = {
      servers: servers(),
      clock,
      clockInfo,
      context: recordContext,
      maxSecondsPerDirection: cfg.maxSecondsPerDirection,
      byteCapPerDirection: settings.byteCapMB * 1e6,
      pings: settings.pings,
      expectedMbps: planDownMbps,
      ceiling,
      signal: currentSignal
    }
    log.info({ kind: event.kind, server: ctx.servers[0] }, 'task starting')
    const record = await spec.run(ctx)
    if (currentSignal.aborted) { log.info({ kind: event.kind }, 'stopping: interrupted measurement not stored'); return null }
    store(record)
    if (spec.heavy) outbox.addUsage(localMonth(wall()), (record.download?.bytes ?? 0) + (record.upload?.bytes ?? 0))
    if (spec.heavy && record.download !== null && record.upload !== null) outbox.setMeta(LAST_RATES_KEY, JSON.stringify({ downMbps: record.download.mbps, upMbps: record.upload.mbps }))
    return record
  }

  const scheduler = new Scheduler({
    agentId: deps.agentId,
    clock: { wall, mono: clock.now, sleep: clock.sleep },
    random,
    schedule: () => config().schedule,
    kinds: Object.keys(tasks) as Array<keyof TaskRegistry>,
    execute: async (e) => { await execute(e) },
    onMissed: (_kind, n) => { outbox.bump('missedSlots', n) },
    onClockStep: () => { estimator.reset() },
    log
  })

  async function syncLoop (signal: AbortSignal, stopAll: () => void): Promise<void> {
    while (!signal.aborted) {
      const step = await engine.syncOnce(signal)
      if (step.delayMs === null) { stopAll(); return }
      await clock.sleep(step.delayMs, signal).catch(() => {})
    }
  }

  return {
    outbox,
    engine,
    scheduler,
    config,
    execute,
    async run (signal) {
      if (engine.state === 'decommissioned') {
        log.error('this agent was decommissioned by the collector: not measuring; the outbox is kept for export (tocdo-agent status)')
        return 'decommissioned'
      }
      const inner = new AbortController()
      const onAbort = (): void => { inner.abort() }
      signal.addEventListener('abort', onAbort, { once: true })
      currentSignal = inner.signal
      try {
        const delay = random() * settings.startupDelayMaxS * 1000
        log.info({ delayS: Math.round(delay / 100) / 10, agentId: deps.agentId, collector: deps.collector, configVersion: remote?.version ?? null }, 'agent started; waiting before the first network call')
        await clock.sleep(delay, inner.signal).catch(() => {})
        await Promise.all([syncLoop(inner.signal, onAbort), scheduler.run(inner.signal)])
      } finally {
        signal.removeEventListener('abort', onAbort)
      }
      // The sync loop may have changed the state while running.
      return (engine.state as FleetState) === 'decommissioned' ? 'decommissioned' : 'stopped'
    },
    async once (signal) {
      currentSignal = signal
      let step = await engine.syncOnce(signal)
      let record: ResultRecord | null = null
      if (engine.state !== 'decommissioned' && !signal.aborted) {
        const now = wall()
        record = await execute({ kind: 'speed', nominalMs: now, atMs: now }, { explicit: true })
        step = await engine.syncOnce(signal)
        for (let i = 0; i < 50 && step.action === 'drain' && !signal.aborted; i++) step = await engine.syncOnce(signal)
      }
      return { record, step }
    },
    close () {
      outbox.close()
      lock.release()
    }
  }
}
