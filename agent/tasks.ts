import type { ResultRecord } from '../shared/schemas/result.js'
import type { ProbeClock, ProgressEvent } from './measure/context.js'
import { runIpv6Check, runLatencyCheck, runSpeedTest } from './measure/index.js'
import { runIpv6OnlyCheck } from './measure/ipv6-only.js'
import type { AgentConfig } from './config.js'
import { SPREAD_S } from './scheduler/plan.js'
import { DEFAULT_SCHEDULE, type Schedule } from '../shared/schedule.js'
import type { TaskKind } from './task-kinds.js'

/**
 * The task registry: for each kind, what it runs, whether it is heavy (a full test: the data
 * budget, the quiet-line gate and the outbox cap apply, and revocation stops it), when it runs
 * (its period and random spread) and how `tocdo-agent test --kind` shows it. The scheduler,
 * the agent's `tasks` setting, the run policy and the command line all read this table;
 * adding a task is its kind in task-kinds.ts and one entry below, never another branch elsewhere.
 */
export { TASK_KINDS, type TaskKind } from './task-kinds.js'

export interface TaskContext {
  /** Test servers in preference order; the first is used unless the task picks among them. */
  servers: string[]
  clock: ProbeClock
  /** The clock estimate for the record; absent outside the daemon (the record says "unknown"). */
  clockInfo?: ResultRecord['clock']
  context: Partial<ResultRecord['context']>
  maxSecondsPerDirection: number
  byteCapPerDirection: number
  pings: number
  expectedMbps: number | null
  /** This machine's calibrated loopback ceiling, for client_limited (null when unknown). */
  ceiling: { downloadMbps: number, uploadMbps: number } | null
  signal: AbortSignal
  /** The agent's settings, for a task's own (e.g. ipv6OnlyServices). */
  settings: Readonly<AgentConfig>
  /** Only from `tocdo-agent test`: the speed test's knobs and a live display. */
  manual?: ManualOptions
}

/** What a person can ask of one run on the command line (`tocdo-agent test`). */
export interface ManualOptions {
  directions?: Array<'download' | 'upload'>
  streams?: number
  maxStreams?: number
  family?: 4 | 6
  /** null: never stop early. */
  earlyStop?: null
  /** IPv6 sub-tests with a speed test; 'download' adds the forced-IPv6 download. */
  ipv6?: true | 'download'
  onProgress?: (e: ProgressEvent) => void
}

/** What a scheduled run needs: the run itself and whether the full-test policy applies. */
export interface TaskSpec {
  kind: TaskKind
  heavy: boolean
  run: (ctx: TaskContext) => Promise<ResultRecord>
}

/**
 * When a kind runs. `dayPlan`: the per-agent day plan of full tests (scheduler/plan.ts);
 * otherwise every `everyMin(schedule)` minutes with a per-agent hash phase. Periods are read
 * from the schedule in force (remote config or the built-in default) by kind, never copied here.
 */
export type TaskTiming =
  | { dayPlan: true, spreadS: number }
  | { dayPlan: false, everyMin: (schedule: Schedule) => number, spreadS: number }

export interface Task extends TaskSpec {
  timing: TaskTiming
  /** `tocdo-agent test --kind` help text. */
  describe: string
}

export type TaskRegistry = Partial<Record<TaskKind, TaskSpec>>

const speed: Task = {
  kind: 'speed',
  heavy: true,
  timing: { dayPlan: true, spreadS: SPREAD_S },
  describe: 'full speed test: idle latency, download, upload',
  run: async (ctx) => await runSpeedTest({
    // Several servers are ranked by ping by the engine; one is used as is.
    servers: ctx.servers,
    clock: ctx.clock,
    expectedMbps: ctx.expectedMbps,
    pings: ctx.pings,
    maxMsPerDirection: ctx.maxSecondsPerDirection * 1000,
    byteCapPerDirection: ctx.byteCapPerDirection,
    context: ctx.context,
    ...(ctx.clockInfo === undefined ? {} : { clockInfo: ctx.clockInfo }),
    ceiling: ctx.ceiling,
    signal: ctx.signal,
    ...manualSpeedOptions(ctx.manual)
  })
}

function manualSpeedOptions (m: ManualOptions | undefined): Partial<Parameters<typeof runSpeedTest>[0]> {
  if (m === undefined) return {}
  return {
    ...(m.directions === undefined ? {} : { directions: m.directions }),
    ...(m.streams === undefined ? {} : { streams: m.streams }),
    ...(m.maxStreams === undefined ? {} : { maxStreams: m.maxStreams }),
    ...(m.family === undefined ? {} : { family: m.family }),
    ...(m.earlyStop === null ? { earlyStop: null } : {}),
    ...(m.ipv6 === undefined ? {} : { ipv6: m.ipv6 }),
    ...(m.onProgress === undefined ? {} : { onProgress: m.onProgress })
  }
}

/** TCP-connect RTT to the test servers over IPv4 and IPv6: a few kB, every 15 min. */
const latency: Task = {
  kind: 'latency',
  heavy: false,
  timing: { dayPlan: false, everyMin: (s) => s.latencyEveryMin, spreadS: 60 },
  describe: 'TCP-connect round-trip time to the test servers over IPv4 and IPv6',
  run: async (ctx) => await runLatencyCheck({ servers: ctx.servers, clock: ctx.clock, ...(ctx.clockInfo === undefined ? {} : { clockInfo: ctx.clockInfo }), context: ctx.context, signal: ctx.signal })
}

/** The IPv6 sub-tests, hourly; the forced-IPv6 download stays with the full test's budget (or a person asking for it). */
const ipv6: Task = {
  kind: 'ipv6',
  heavy: false,
  timing: { dayPlan: false, everyMin: (s) => s.ipv6EveryMin, spreadS: SPREAD_S },
  describe: 'the IPv6 sub-tests against the first test server',
  run: async (ctx) => {
    ctx.manual?.onProgress?.({ phase: 'ipv6' })
    return await runIpv6Check({ server: ctx.servers[0] as string, clock: ctx.clock, forcedDownload: ctx.manual?.ipv6 === 'download', ...(ctx.clockInfo === undefined ? {} : { clockInfo: ctx.clockInfo }), context: ctx.context, signal: ctx.signal })
  }
}

/**
 * IPv6-only readiness (NAT64/DNS64 by RFC 7050, the national e-services over IPv6 alone): a
 * few kB, every `ipv6OnlyEveryMin` of the schedule (by default four times a day).
 */
const ipv6Only: Task = {
  kind: 'ipv6_only',
  heavy: false,
  timing: { dayPlan: false, everyMin: (s) => s.ipv6OnlyEveryMin ?? DEFAULT_SCHEDULE.ipv6OnlyEveryMin, spreadS: SPREAD_S },
  describe: 'IPv6-only readiness: NAT64/DNS64 and the national e-services over IPv6 alone',
  run: async (ctx) => {
    ctx.manual?.onProgress?.({ phase: 'ipv6' })
    return await runIpv6OnlyCheck({ server: ctx.servers[0] as string, services: ctx.settings.ipv6OnlyServices, clock: ctx.clock, ...(ctx.clockInfo === undefined ? {} : { clockInfo: ctx.clockInfo }), context: ctx.context, signal: ctx.signal })
  }
}

type Entry<K extends TaskKind> = Task & { kind: K }
/** Every task, by kind. */
export const TASKS: { readonly [K in TaskKind]: Entry<K> } = {
  speed: speed as Entry<'speed'>,
  latency: latency as Entry<'latency'>,
  ipv6: ipv6 as Entry<'ipv6'>,
  ipv6_only: ipv6Only as Entry<'ipv6_only'>
}

export function defaultTasks (): TaskRegistry {
  return { ...TASKS }
}
