import { Worker } from 'node:worker_threads'
import { createRequire } from 'node:module'
import { once } from 'node:events'
import type { Db } from '../db.js'

/**
 * Runs the WAL checkpoints of a database on a worker thread with its own connection, so the
 * event loop never waits for them. SQLite's automatic checkpoint runs inside the COMMIT that
 * crosses `wal_autocheckpoint` pages, on the committing thread: it copies the WAL's pages into
 * the database file and fsyncs both, which under sustained ingest stalled the single writer
 * (and every request waiting on it) every group or two.
 *
 * The worker runs `wal_checkpoint(PASSIVE)` every `intervalMs`: it never blocks the writer or
 * readers, and after a complete pass the writer restarts the WAL from its beginning, so the
 * file stays bounded. Durability is unchanged: an acknowledged commit is already on disk in
 * the WAL, whoever copies it later. If the worker fails, automatic checkpoints are switched
 * back on, so the WAL can never grow without bound.
 */
export class WalCheckpointer {
  readonly #db: Db
  readonly #worker: Worker
  #stopped = false
  #exited = false

  constructor (db: Db, { intervalMs = 200 } = {}) {
    this.#db = db
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3')
    // Plain JavaScript evaluated in the worker: no loader needed, whether the collector runs
    // from TypeScript sources (tsx, vitest) or compiled.
    this.#worker = new Worker(`
      const { workerData, parentPort } = require('node:worker_threads')
      const Database = require(workerData.sqlite)
      const db = new Database(workerData.file, { fileMustExist: true })
      db.pragma('busy_timeout = 0')
      const checkpoint = () => { try { db.pragma('wal_checkpoint(PASSIVE)') } catch (err) { if (err.code !== 'SQLITE_BUSY') throw err } }
      const timer = setInterval(checkpoint, workerData.intervalMs)
      parentPort.on('message', () => { clearInterval(timer); try { checkpoint() } finally { db.close(); parentPort.close() } })
    `, { eval: true, workerData: { file: db.name, sqlite, intervalMs } })
    this.#worker.unref()
    db.pragma('wal_autocheckpoint = 0')
    const fallBack = (): void => {
      if (this.#stopped || !this.#db.open) return
      this.#stopped = true
      this.#db.pragma('wal_autocheckpoint = 1000')
    }
    this.#worker.on('error', fallBack)
    this.#worker.on('exit', () => { this.#exited = true; fallBack() })
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
