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
 * (fleet-protocol.md §16). A failed commit rolls back the whole group and every request
 * in it gets the error, so an acknowledged item is always on disk and an unacknowledged one
 * is either absent or will be found as a duplicate on resend.
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
  readonly stats = { commits: 0, rows: 0, jobs: 0, maxGroupJobs: 0, busyRefusals: 0 }

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
    let outcomes: IngestOutcome[]
    try {
      this.#db.pragma('synchronous = NORMAL')
      outcomes = this.#db.transaction(() => {
        const out = this.#ingestor.storeAll(jobs.map((j) => j.batch))
        for (const job of jobs) job.also?.()
        return out
      })()
    } catch (err) {
      for (const job of jobs) job.reject(err)
      return
    } finally {
      this.#db.pragma('synchronous = FULL')
    }
    this.stats.commits++
    this.stats.jobs += jobs.length
    this.stats.maxGroupJobs = Math.max(this.stats.maxGroupJobs, jobs.length)
    this.#syncWal().then(() => {
      jobs.forEach((job, i) => {
        this.stats.rows += job.batch.rows.length
        job.resolve(outcomes[i] as IngestOutcome)
      })
    }, (err: unknown) => {
      // Committed but not known to be durable: not acknowledged; a resend is a duplicate.
      for (const job of jobs) job.reject(err)
    })
  }

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
