import { open } from 'node:fs/promises'
import type { Db } from '../storage/db.js'
import type { Ingestor, IngestOutcome, PreparedBatch } from './ingest.js'
import { TocdoError } from '../../shared/errors.js'
import { WalCheckpointer } from './wal-checkpointer.js'

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

interface Job {
  batch: PreparedBatch
  /** Extra writes that must commit together with the batch (the heartbeat). */
  also: (() => void) | undefined
  enqueuedAt: number
  resolve: (outcome: IngestOutcome) => void
  reject: (err: unknown) => void
}

/**
 * The single writer: items from concurrent requests are queued and committed together in
 * one transaction (one fsync under synchronous=FULL) every `intervalMs` or `maxRows` rows,
 * and each request is answered only after the transaction holding its items has committed
 * (fleet-protocol.md §16). A failed commit rolls back the whole group; its requests are then
 * committed again one by one, so only the request that makes the transaction fail gets the
 * error and another agent's valid sync never does (issue 11). An acknowledged item is always
 * on disk and an unacknowledged one is either absent or will be found as a duplicate on resend.
 *
 * Durability without blocking the event loop: the group's transaction runs with
 * synchronous=NORMAL (in WAL mode: no fsync at commit), then the WAL file is fsynced on
 * libuv's thread pool and only then are the requests answered. An acknowledgement thus
 * means the same as under synchronous=FULL (the commit record is on stable storage), while
 * the next group can be parsed, validated and committed during the fsync. Every other
 * write on the connection keeps synchronous=FULL.
 */
export class GroupCommitter {
  readonly #db: Db
  readonly #ingestor: Ingestor
  readonly #opts: Required<GroupCommitOptions>
  #queue: Job[] = []
  #queuedRows = 0
  #timer: NodeJS.Timeout | null = null
  #immediate: NodeJS.Immediate | null = null
  #closed = false
  /** Figures for health and the bench. */
  readonly stats = { commits: 0, rows: 0, jobs: 0, maxGroupJobs: 0, busyRefusals: 0, groupRetries: 0, failedJobs: 0 }

  readonly #walFile: string | null
  /** WAL checkpoints on a worker thread, off the commit path. */
  readonly #checkpointer: WalCheckpointer | null

  constructor (db: Db, ingestor: Ingestor, opts: GroupCommitOptions) {
    this.#db = db
    this.#walFile = db.memory ? null : `${db.name}-wal`
    this.#checkpointer = db.memory ? null : new WalCheckpointer(db)
    this.#ingestor = ingestor
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

  /** Queues a prepared batch; resolves with its acks once the group holding it has committed. */
  async submit (batch: PreparedBatch, also?: () => void): Promise<IngestOutcome> {
    this.assertCapacity()
    return await new Promise<IngestOutcome>((resolve, reject) => {
      this.#queue.push({ batch, also, enqueuedAt: this.#opts.now(), resolve, reject })
      // A heartbeat-only sync still costs a row of writes.
      this.#queuedRows += Math.max(1, batch.rows.length)
      if (this.#queuedRows >= this.#opts.maxRows) {
        this.#immediate ??= setImmediate(() => this.flush())
      } else {
        this.#timer ??= setTimeout(() => this.flush(), this.#opts.intervalMs)
      }
    })
  }

  /** Commits everything queued, in one transaction; answers once the WAL is on disk. */
  flush (): void {
    if (this.#timer !== null) { clearTimeout(this.#timer); this.#timer = null }
    if (this.#immediate !== null) { clearImmediate(this.#immediate); this.#immediate = null }
    const jobs = this.#queue
    if (jobs.length === 0) return
    this.#queue = []
    this.#queuedRows = 0
    const started = performance.now()
    let committed: Array<{ job: Job, outcome: IngestOutcome }>
    this.#db.pragma('synchronous = NORMAL')
    try {
      try {
        const outcomes = this.#commit(jobs)
        committed = jobs.map((job, i) => ({ job, outcome: outcomes[i] as IngestOutcome }))
      } catch {
        // Something in the group fails the transaction: find it by committing each request alone.
        this.stats.groupRetries++
        committed = []
        for (const job of jobs) {
          try {
            committed.push({ job, outcome: this.#commit([job])[0] as IngestOutcome })
          } catch (err) {
            this.stats.failedJobs++
            job.reject(err)
          }
        }
      }
    } finally {
      this.#db.pragma('synchronous = FULL')
    }
    this.onCommit?.({ jobs: committed.length, rows: committed.reduce((n, c) => n + c.job.batch.rows.length, 0), commitMs: performance.now() - started })
    if (committed.length === 0) return
    this.stats.commits++
    this.stats.jobs += committed.length
    this.stats.maxGroupJobs = Math.max(this.stats.maxGroupJobs, committed.length)
    const fsyncStarted = performance.now()
    this.#syncWal().then(() => {
      this.onFsync?.(performance.now() - fsyncStarted)
      for (const { job, outcome } of committed) {
        this.stats.rows += job.batch.rows.length
        this.onAcked?.(outcome)
        job.resolve(outcome)
      }
    }, (err: unknown) => {
      // Committed but not known to be durable: not acknowledged; a resend is a duplicate.
      for (const { job } of committed) job.reject(err)
    })
  }

  /** One transaction over these jobs' batches and their heartbeats; throws (rolled back) if any write fails. */
  #commit (jobs: readonly Job[]): IngestOutcome[] {
    return this.#db.transaction(() => {
      const out = this.#ingestor.storeAll(jobs.map((j) => j.batch))
      for (const job of jobs) job.also?.()
      return out
    })()
  }

  /** Observers for metrics: each group's commit time and size, and each WAL fsync's time, ms. */
  onCommit: ((c: { jobs: number, rows: number, commitMs: number }) => void) | null = null
  onFsync: ((ms: number) => void) | null = null
  /** Called with each request's acks as it is answered. */
  onAcked: ((outcome: IngestOutcome) => void) | null = null

  /** fsync of the WAL file (every write of the file, whichever descriptor made it). */
  async #syncWal (): Promise<void> {
    if (this.#walFile === null) return
    const handle = await open(this.#walFile, 'r')
    try { await handle.sync() } finally { await handle.close() }
  }

  /** Commits what is queued and refuses new work; call before closing the database. */
  close (): void {
    this.flush()
    this.#closed = true
    this.#checkpointer?.stop()
  }
}
