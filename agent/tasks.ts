import type { ResultRecord } from '../shared/schemas/result.js'
import type { ProbeClock } from './measure/context.js'
import { runIpv6Check, runLatencyCheck, runSpeedTest } from './measure/index.js'
import type { TaskKind } from './scheduler/scheduler.js'

/**
 * The task registry: what each scheduled kind runs and whether it is heavy (a full test: the
 * data budget, the quiet-line gate and the outbox cap apply, and revocation stops it). The
 * scheduler looks a kind up here; adding a task is one entry, never another branch.
 */
export interface TaskContext {
  /** Test servers in preference order; the first is used unless the task picks among them. */
  servers: string[]
  clock: ProbeClock
  clockInfo: ResultRecord['clock']
  context: Partial<ResultRecord['context']>
  maxSecondsPerDirection: number
  byteCapPerDirection: number
  pings: number
  expectedMbps: number | null
  /** This machine's calibrated loopback ceiling, for client_limited (null when unknown). */
  ceiling: { downloadMbps: number, uploadMbps: number } | null
  signal: AbortSignal
}

export interface TaskSpec {
  kind: TaskKind
  heavy: boolean
  run: (ctx: TaskContext) => Promise<ResultRecord>
}

export type TaskRegistry = Partial<Record<TaskKind, TaskSpec>>

const speed: TaskSpec = {
  kind: 'speed',
  heavy: true,
  run: async (ctx) => await runSpeedTest({
    // Several servers are ranked by ping by the engine; one is used as is.
    ...(ctx.servers.length > 1 ? { servers: ctx.servers } : { server: ctx.servers[0] as string }),
    clock: ctx.clock,
    expectedMbps: ctx.expectedMbps,
    pings: ctx.pings,
    maxMsPerDirection: ctx.maxSecondsPerDirection * 1000,
    byteCapPerDirection: ctx.byteCapPerDirection,
    context: ctx.context,
    clockInfo: ctx.clockInfo,
    ceiling: ctx.ceiling,
    signal: ctx.signal
  })
}

/** TCP-connect RTT to the test servers over IPv4 and IPv6: a few kB, every 15 min. */
const latency: TaskSpec = {
  kind: 'latency',
  heavy: false,
  run: async (ctx) => await runLatencyCheck({ servers: ctx.servers, clock: ctx.clock, clockInfo: ctx.clockInfo, context: ctx.context, signal: ctx.signal })
}

/** The IPv6 sub-tests, hourly; the forced-IPv6 download stays with the full test's budget, not here. */
const ipv6: TaskSpec = {
  kind: 'ipv6',
  heavy: false,
  run: async (ctx) => await runIpv6Check({ server: ctx.servers[0] as string, clock: ctx.clock, forcedDownload: false, clockInfo: ctx.clockInfo, context: ctx.context, signal: ctx.signal })
}

export function defaultTasks (): TaskRegistry {
  return { speed, latency, ipv6 }
}
