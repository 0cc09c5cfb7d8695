import type { Logger } from 'pino'
import type { EnrolledAgency, AgentRemoteConfig } from '../shared/schemas/fleet.js'
import type { ResultRecord } from '../shared/schemas/result.js'
import type { AgentConfig } from './config.js'
import { postSync } from './delivery/fleet-client.js'
import type { ProbeClock } from './measure/context.js'
import { acquireLock } from './outbox/lock.js'
import { Outbox, type OutboxLimits } from './outbox/outbox.js'
import type { GateDeps } from './scheduler/gate.js'
import { Scheduler } from './scheduler/scheduler.js'
import { createRunPolicy, type Execute } from './run-policy.js'
import { ClockEstimator } from './sync/clock-estimator.js'
import { builtinConfig, fromRemote, loadRemoteConfig, saveRemoteConfig, type EffectiveConfig } from './sync/remote-config.js'
import { SyncEngine, type FleetState, type SyncEngineDeps, type SyncStep } from './sync/sync-engine.js'
import { defaultTasks, TASK_KINDS, TASKS, type TaskRegistry } from './tasks.js'
import { readCalibration } from './measure/calibration.js'

/**
 * Wires one running agent: lock, outbox, remote config, clock estimator, sync engine, task
 * registry, run policy (run-policy.ts) and scheduler. Everything with I/O or time is a dependency, so tests build the
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
  execute: Execute
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

  let currentSignal: AbortSignal = new AbortController().signal

  const { execute } = createRunPolicy({
    outbox,
    settings,
    clock,
    log,
    scheduled: tasks,
    all: registry,
    config,
    fleetState: () => engine.state,
    clockInfo: () => estimator.get(),
    servers,
    context: recordContext,
    slotsBetween: (kind, from, to) => scheduler.countBetween(kind, from, to),
    ceiling: calibrated,
    ...(deps.gate === undefined ? {} : { gate: deps.gate }),
    signal: () => currentSignal
  })

  const scheduler = new Scheduler({
    agentId: deps.agentId,
    clock: { wall, mono: clock.now, sleep: clock.sleep },
    random,
    schedule: () => config().schedule,
    kinds: TASK_KINDS.filter((k) => tasks[k] !== undefined),
    timing: (kind) => TASKS[kind].timing,
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
