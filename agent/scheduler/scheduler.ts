import type { Logger } from 'pino'
import { fnv1a32 } from '../../shared/ids.js'
import type { Schedule } from '../../shared/schedule.js'
import { DAY_MS, vnDayStart } from '../../shared/vn-time.js'
import { planDay, type PlannedSlot } from './plan.js'
import { TASK_KINDS, TASKS, type TaskKind, type TaskTiming } from '../tasks.js'

/**
 * When each task runs (methodology.md §13, fleet-protocol.md §12). Time comes from an injected
 * clock (wall for slot phase, monotonic to notice wall-clock steps) and randomness from an
 * injected source, so tests can drive days in milliseconds.
 *
 * - Each kind's period and spread come from its entry in the task registry (agent/tasks.ts):
 *   full tests on the per-agent day plan (plan.ts) + U[0, 300 s] redrawn each cycle; the
 *   light checks every N minutes of the schedule + their spread, each with its own hash
 *   phase (never on round cron minutes).
 * - One task at a time: a light check that falls due during a speed test waits for it.
 * - A slot more than 5 min late (sleep, a blocked machine) is skipped and counted, never
 *   replayed; a wall-clock step > 5 min re-plans from the new time without a burst.
 */
export type { TaskKind } from '../tasks.js'

export interface SlotEvent {
  kind: TaskKind
  /** Nominal slot time (epoch ms, agent wall clock) without the random spread. */
  nominalMs: number
  /** When it fires: nominal + spread. */
  atMs: number
  /** For full tests: the day-plan entry. */
  slot?: PlannedSlot
}

export interface SchedulerClock { wall: () => number, mono: () => number, sleep: (ms: number, signal?: AbortSignal) => Promise<void> }

export interface SchedulerDeps {
  agentId: string
  clock: SchedulerClock
  random: () => number
  schedule: () => Schedule
  /** Kinds that have a task; others are never planned. */
  kinds?: readonly TaskKind[]
  /** When each kind runs (default: the task registry's timing). */
  timing?: (kind: TaskKind) => TaskTiming
  execute: (event: SlotEvent) => Promise<void>
  onMissed?: (kind: TaskKind, count: number) => void
  onClockStep?: (stepMs: number) => void
  log?: Logger
  /** Longest single sleep, so a wall-clock step is noticed promptly. */
  tickMaxMs?: number
  /** How late a slot may start before it counts as missed. */
  graceMs?: number
}

export const CLOCK_STEP_MS = 5 * 60_000
/** Forward steps longer than this are clock corrections, not a sleeping machine: not counted as missed. */
const MAX_COUNTED_GAP_MS = 31 * DAY_MS

export class Scheduler {
  private next = new Map<TaskKind, SlotEvent>()
  private readonly tickMaxMs: number
  private readonly graceMs: number
  running: SlotEvent | null = null

  constructor (private readonly d: SchedulerDeps) {
    this.tickMaxMs = d.tickMaxMs ?? 60_000
    this.graceMs = d.graceMs ?? CLOCK_STEP_MS
  }

  /** Upcoming slots, soonest first (for `tocdo-agent status` and logs). */
  upcoming (): SlotEvent[] {
    if (this.next.size === 0) this.planAll(this.d.clock.wall())
    return [...this.next.values()].sort((a, b) => a.atMs - b.atMs)
  }

  /** Re-plan from now, e.g. after a new config arrived. */
  replan (): void { this.planAll(this.d.clock.wall()) }

  private timingOf (kind: TaskKind): TaskTiming {
    return this.d.timing?.(kind) ?? TASKS[kind].timing
  }

  private periodMs (timing: TaskTiming & { dayPlan: false }): number {
    return timing.everyMin(this.d.schedule()) * 60_000
  }

  private spread (timing: TaskTiming, periodMs: number): number {
    const max = Math.min(timing.spreadS * 1000, periodMs / 2)
    return Math.floor(this.d.random() * max)
  }

  /** First slot of `kind` whose nominal time is strictly after `afterMs`. */
  nextAfter (kind: TaskKind, afterMs: number): SlotEvent {
    const timing = this.timingOf(kind)
    if (timing.dayPlan) {
      const schedule = this.d.schedule()
      for (let day = vnDayStart(afterMs); ; day += DAY_MS) {
        const slot = planDay(this.d.agentId, schedule).find((s) => day + s.atS * 1000 > afterMs)
        if (slot !== undefined) {
          const nominalMs = day + slot.atS * 1000
          return { kind, nominalMs, atMs: nominalMs + this.spread(timing, DAY_MS), slot }
        }
      }
    }
    const period = this.periodMs(timing)
    const phase = fnv1a32(`${this.d.agentId}:${kind}`) % period
    const k = Math.floor((afterMs - phase) / period) + 1
    const nominalMs = k * period + phase
    return { kind, nominalMs, atMs: nominalMs + this.spread(timing, period) }
  }

  /** How many nominal slots of `kind` fall in (fromMs, toMs]. */
  countBetween (kind: TaskKind, fromMs: number, toMs: number): number {
    if (toMs <= fromMs) return 0
    const timing = this.timingOf(kind)
    if (!timing.dayPlan) {
      const period = this.periodMs(timing)
      const phase = fnv1a32(`${this.d.agentId}:${kind}`) % period
      return Math.floor((toMs - phase) / period) - Math.floor((fromMs - phase) / period)
    }
    const plan = planDay(this.d.agentId, this.d.schedule())
    let n = 0
    for (let day = vnDayStart(fromMs); day <= toMs; day += DAY_MS) {
      for (const s of plan) { const t = day + s.atS * 1000; if (t > fromMs && t <= toMs) n++ }
    }
    return n
  }

  private planAll (nowMs: number): void {
    for (const kind of this.d.kinds ?? TASK_KINDS) this.next.set(kind, this.nextAfter(kind, nowMs))
  }

  async run (signal: AbortSignal): Promise<void> {
    const { clock } = this.d
    let lastWall = clock.wall()
    let lastMono = clock.mono()
    if (this.next.size === 0) this.planAll(lastWall)
    while (!signal.aborted) {
      const now = clock.wall()
      const mono = clock.mono()
      const step = (now - lastWall) - (mono - lastMono)
      lastWall = now
      lastMono = mono
      if (Math.abs(step) > CLOCK_STEP_MS) this.onStep(step, now)
      const due = [...this.next.values()].filter((e) => e.atMs <= now).sort((a, b) => a.atMs - b.atMs)[0]
      if (due !== undefined) {
        if (now - due.atMs > this.graceMs) {
          // Late beyond grace: skip every slot of this kind up to now, never replay them.
          const upcoming = this.nextAfter(due.kind, now)
          const missed = 1 + this.countBetween(due.kind, due.nominalMs, now)
          this.d.onMissed?.(due.kind, missed)
          this.d.log?.warn({ kind: due.kind, missed, lateS: Math.round((now - due.atMs) / 1000) }, 'slots missed; skipped, not replayed')
          this.next.set(due.kind, upcoming)
          continue
        }
        this.running = due
        try { await this.d.execute(due) } catch (err) { this.d.log?.error({ err, kind: due.kind }, 'task failed') } finally { this.running = null }
        this.next.set(due.kind, this.nextAfter(due.kind, due.nominalMs))
        // Time spent in the task is real time, not a clock step.
        lastWall = clock.wall()
        lastMono = clock.mono()
        continue
      }
      const soonest = Math.min(...[...this.next.values()].map((e) => e.atMs))
      await clock.sleep(Math.max(1, Math.min(soonest - now, this.tickMaxMs)), signal).catch(() => {})
    }
  }

  private onStep (stepMs: number, now: number): void {
    this.d.log?.warn({ stepS: Math.round(stepMs / 1000) }, 'wall clock stepped; re-planning from the new time')
    this.d.onClockStep?.(stepMs)
    if (stepMs > 0 && stepMs <= MAX_COUNTED_GAP_MS) {
      // Most likely the machine slept (the monotonic clock stops in suspend): those slots were missed.
      for (const e of this.next.values()) {
        if (e.nominalMs <= now) this.d.onMissed?.(e.kind, 1 + this.countBetween(e.kind, e.nominalMs, now))
      }
    }
    this.planAll(now)
  }
}
