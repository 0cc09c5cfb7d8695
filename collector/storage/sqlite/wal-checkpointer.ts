import { Worker } from 'node:worker_threads'
import { createRequire } from 'node:module'
import { once } from 'node:events'
import { statSync } from 'node:fs'
import type { Db } from '../db.js'

/**
 * Runs the WAL checkpoints of a database on a worker thread with its own connection, so the
 * event loop never waits for them. SQLite's automatic checkpoint runs inside the COMMIT that
 * crosses `wal_autocheckpoint` pages, on the committing thread: it copies the WAL's pages into
 * the database file and fsyncs both, which under sustained ingest stalled the single writer
 * (and every request waiting on it) every group or two.
 *
 * The worker runs `wal_checkpoint(PASSIVE)` every `intervalMs`: it never blocks the writer or
 * readers, and after a complete pass the writer restarts the WAL from its beginning. Under
 * sustained ingest a pass is never complete, though: by the time it has copied what was there
 * when it began, the next commit has appended more, so the writer never restarts the WAL. A
 * 10 M-result load grew it to about 40 GB (docs/reports.md), and a reader looking up a page
 * there searches one more index block per 4,096 frames. So each pass reports the WAL's length,
 * and the writer calls `afterCommit` after each commit: once the last pass found `restartBytes`
 * of WAL, it runs `wal_checkpoint(RESTART)` on its own connection, between its transactions,
 * which copies the little the passive passes left and waits for readers to move past the WAL;
 * the next commit then starts the WAL over, and `journal_size_limit` cuts the file back to a
 * quarter of `restartBytes`. That stall is rare (once per `restartBytes` written while the
 * worker cannot catch up) and short. Durability is unchanged: an acknowledged commit is
 * already on disk in the WAL, whoever copies it later. If the worker fails, automatic
 * checkpoints are switched back on, so the WAL can never grow without bound.
 */
export class WalCheckpointer {
  readonly #db: Db
  readonly #worker: Worker
  readonly #restartFrames: number
  readonly #pageSize: number
  /** Frames in the WAL at the worker's last passive pass (it reports each one). */
  #walFrames = 0
  #stopped = false
  #exited = false
  /** WAL restarts run by `afterCommit`. */
  restarts = 0

  constructor (db: Db, { intervalMs = 200, restartBytes = 256 * 1024 * 1024 } = {}) {
    this.#db = db
    this.#pageSize = db.pragma('page_size', { simple: true }) as number
    this.#restartFrames = Math.ceil(restartBytes / this.#pageSize)
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3')
    // Plain JavaScript evaluated in the worker: no loader needed, whether the collector runs
    // from TypeScript sources (tsx, vitest) or compiled.
    this.#worker = new Worker(`
      const { workerData, parentPort } = require('node:worker_threads')
      const Database = require(workerData.sqlite)
      const db = new Database(workerData.file, { fileMustExist: true })
      db.pragma('busy_timeout = 0')
      const checkpoint = () => {
        try { parentPort.postMessage(db.pragma('wal_checkpoint(PASSIVE)')[0].log) } catch (err) { if (err.code !== 'SQLITE_BUSY') throw err }
      }
      const timer = setInterval(checkpoint, workerData.intervalMs)
      parentPort.on('message', () => { clearInterval(timer); try { checkpoint() } finally { db.close(); parentPort.close() } })
    `, { eval: true, workerData: { file: db.name, sqlite, intervalMs } })
    this.#worker.on('message', (frames: number) => { this.#walFrames = frames })
    // After the listener, which refs the worker: a process with nothing else to do may end.
    this.#worker.unref()
    db.pragma('wal_autocheckpoint = 0')
    // A restarted WAL's file is cut back to this; the WAL's own length is what afterCommit watches.
    db.pragma(`journal_size_limit = ${Math.round(restartBytes / 4)}`)
    const fallBack = (): void => {
      if (this.#stopped || !this.#db.open) return
      this.#stopped = true
      this.#db.pragma('wal_autocheckpoint = 1000')
    }
    this.#worker.on('error', fallBack)
    this.#worker.on('exit', () => { this.#exited = true; fallBack() })
  }

  /**
   * After each commit, on the writer's connection, between its transactions: restarts the WAL
   * once the worker's last pass found it holding `restartBytes`.
   */
  afterCommit (): void {
    if (this.#stopped || !this.#db.open) return
    // The file's size too, should the worker be starved of CPU and its reports late: a file
    // 4 × restartBytes long holds that much WAL, since a restart cuts it to a quarter of one.
    if (this.#walFrames < this.#restartFrames && this.#walFileBytes() < 4 * this.#restartFrames * this.#pageSize) return
    this.#walFrames = 0 // until the worker's next pass says otherwise
    this.#db.pragma('wal_checkpoint(RESTART)')
    this.restarts++
  }

  #walFileBytes (): number {
    try { return statSync(`${this.#db.name}-wal`).size } catch { return 0 }
  }

  /**
   * Stops the worker (after one last checkpoint) and hands checkpoints back to the connection;
   * resolves once the worker has closed its connection, so the files can be moved or removed.
   */
  async stop (): Promise<void> {
    if (this.#stopped) {
      if (this.#exited) return
      await once(this.#worker, 'exit')
      return
    }
    this.#stopped = true
    if (this.#db.open) this.#db.pragma('wal_autocheckpoint = 1000')
    // Referenced while it stops: in a process with nothing else to do (a CLI command, a bench)
    // the unreferenced worker would let the process end before its exit, and `stop` never resolve.
    this.#worker.ref()
    const exited = once(this.#worker, 'exit')
    this.#worker.postMessage('stop')
    await exited
  }
}
