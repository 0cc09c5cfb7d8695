import type { AgentSeen, CommitJob, IngestOutcome, PreparedBatch, ResultStore } from '../storage/stores.js'
import { GroupNotDurableError } from '../storage/stores.js'
import { TocdoError } from '../../shared/errors.js'

export interface GroupCommitOptions {
  /** Commit what is queued at most this long after the first item arrived, ms. */
  intervalMs: number
  /** Commit at once when this many rows are queued. */
  maxRows: number
  /** Refuse new work (503) while this many rows are queued… */
  maxQueuedRows: number
  /** …or while the oldest queued job has waited longer than this, ms. */
  maxQueueAgeMs: number
  now?: () => number
  random?: () => number
}

interface Queued {
  job: CommitJob
  enqueuedAt: number
  resolve: (outcome: IngestOutcome) => void
  reject: (err: unknown) => void
}

/**
 * The single writer: items from concurrent requests are queued and committed together as one
 * group (one transaction, one fsync) every `intervalMs` or `maxRows` rows, and each request is
 * answered only once the store says the group holding its items is durable (fleet-protocol.md
 * §16). A group whose transaction fails is rolled back whole; its requests are then committed
 * again one by one, so only the request that makes the transaction fail gets the error and
 * another agent's valid sync never does (issue 11). An acknowledged item is always on disk and
 * an unacknowledged one is either absent or will be found as a duplicate on resend.
 *
 * Backend-neutral: batching, back-pressure and the retry live here; what one group's commit
 * is (its transaction, its projections, how it is made durable) is the ResultStore's.
 */
export class GroupCommitter {
  readonly #store: ResultStore
  readonly #opts: Required<GroupCommitOptions>
  #queue: Queued[] = []
  #queuedRows = 0
  #timer: NodeJS.Timeout | null = null
  #immediate: NodeJS.Immediate | null = null
  #closed = false
  /** Groups handed to the store and not yet settled (close waits for them). */
  readonly #inflight = new Set<Promise<void>>()
  /** Figures for health and the bench. */
  readonly stats = { commits: 0, rows: 0, jobs: 0, maxGroupJobs: 0, busyRefusals: 0, groupRetries: 0, failedJobs: 0 }

  constructor (store: ResultStore, opts: GroupCommitOptions) {
    this.#store = store
    this.#opts = { now: Date.now, random: Math.random, ...opts }
  }

  get queuedRows (): number { return this.#queuedRows }

  /**
   * Throws TOCDO_ERR_SERVER_BUSY (503, Retry-After drawn from U[60, 300] s so refused agents
   * do not come back together) when the queue is past its bound.
   */
  assertCapacity (): void {
    const oldest = this.#queue[0]
    const tooOld = oldest !== undefined && this.#opts.now() - oldest.enqueuedAt > this.#opts.maxQueueAgeMs
    if (this.#closed || this.#queuedRows >= this.#opts.maxQueuedRows || tooOld) {
      this.stats.busyRefusals++
      const retryAfterS = 60 + Math.floor(this.#opts.random() * 241)
      throw new TocdoError('TOCDO_ERR_SERVER_BUSY', `the write queue is full; retry after ${retryAfterS} s`, { details: { retryAfterS } })
    }
  }

  /**
   * Queues a prepared batch with what the request says about its agent (stored in the same
   * transaction); resolves with its acks once the group holding it is durable.
   */
  async submit (batch: PreparedBatch, seen: AgentSeen | null = null): Promise<IngestOutcome> {
    this.assertCapacity()
    return await new Promise<IngestOutcome>((resolve, reject) => {
      this.#queue.push({ job: { batch, seen }, enqueuedAt: this.#opts.now(), resolve, reject })
      // A heartbeat-only sync still costs a row of writes.
      this.#queuedRows += Math.max(1, batch.rows.length)
      if (this.#queuedRows >= this.#opts.maxRows) {
        this.#immediate ??= setImmediate(() => this.flush())
      } else {
        this.#timer ??= setTimeout(() => this.flush(), this.#opts.intervalMs)
      }
    })
  }

  /** Hands everything queued to the store as one group; its requests are answered once it is durable. */
  flush (): void {
    if (this.#timer !== null) { clearTimeout(this.#timer); this.#timer = null }
    if (this.#immediate !== null) { clearImmediate(this.#immediate); this.#immediate = null }
    const queued = this.#queue
    if (queued.length === 0) return
    this.#queue = []
    this.#queuedRows = 0
    const done = this.#commit(queued).finally(() => { this.#inflight.delete(done) })
    this.#inflight.add(done)
  }

  async #commit (queued: readonly Queued[]): Promise<void> {
    let group: Array<{ q: Queued, outcome: IngestOutcome }> = []
    let commitMs = 0
    let syncMs = 0
    try {
      const c = await this.#store.commitGroup(queued.map((q) => q.job))
      group = queued.map((q, i) => ({ q, outcome: c.outcomes[i] as IngestOutcome }))
      commitMs = c.commitMs
      syncMs = c.syncMs
    } catch (err) {
      // Committed but not known to be durable: not acknowledged; a resend is a duplicate.
      if (err instanceof GroupNotDurableError) { for (const q of queued) q.reject(err); return }
      // Something in the group fails the transaction: find it by committing each request alone.
      this.stats.groupRetries++
      for (const q of queued) {
        try {
          const c = await this.#store.commitGroup([q.job])
          group.push({ q, outcome: c.outcomes[0] as IngestOutcome })
          commitMs += c.commitMs
          syncMs += c.syncMs
        } catch (jobErr) {
          if (!(jobErr instanceof GroupNotDurableError)) this.stats.failedJobs++
          q.reject(jobErr)
        }
      }
    }
    this.onCommit?.({ jobs: group.length, rows: group.reduce((n, g) => n + g.q.job.batch.rows.length, 0), commitMs })
    if (group.length === 0) return
    this.stats.commits++
    this.stats.jobs += group.length
    this.stats.maxGroupJobs = Math.max(this.stats.maxGroupJobs, group.length)
    this.onFsync?.(syncMs)
    for (const { q, outcome } of group) {
      this.stats.rows += q.job.batch.rows.length
      this.onAcked?.(outcome)
      q.resolve(outcome)
    }
  }

  /** Observers for metrics: each group's commit time and size, and the time to make it durable (the WAL fsync), ms. */
  onCommit: ((c: { jobs: number, rows: number, commitMs: number }) => void) | null = null
  onFsync: ((ms: number) => void) | null = null
  /** Called with each request's acks as it is answered. */
  onAcked: ((outcome: IngestOutcome) => void) | null = null

  /** Commits what is queued, refuses new work and waits for the groups in flight; call before closing the store. */
  async close (): Promise<void> {
    this.flush()
    this.#closed = true
    await Promise.allSettled([...this.#inflight])
  }
}
