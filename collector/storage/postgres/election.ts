import type { Leadership } from '../stores.js'
import type { Pool, PoolClient } from './pool.js'

/**
 * The class (first key) of the session advisory locks elections hold; the second key is a hash
 * of the work's name. Distinct from the migration lock's single key and the partition lock's
 * class (results.ts), so an election never waits on them.
 */
const ELECTION_LOCK_CLASS = 7312012

/** How long to wait before connecting again when the election's connection could not be made or broke. */
const RECONNECT_MS = 1_000

/**
 * One election on PostgreSQL: a session-level advisory lock held on a connection of its own,
 * taken out of the pool for the stores' lifetime. The leader holds the lock; every follower
 * waits in `pg_advisory_lock`, which returns as soon as the leader's session ends (its process
 * killed, its connection cut), so a follower takes over without polling. A leader whose
 * connection breaks stops leading at once: it cannot know whether the server still counts its
 * lock, and another collector may already lead.
 */
export class PostgresElection implements Leadership {
  private client: PoolClient | null = null
  private leading = false
  private closed = false
  private readonly listeners: Array<() => void> = []
  private retry: NodeJS.Timeout | null = null

  private constructor (private readonly pool: Pool, readonly name: string, private readonly onError: (err: unknown) => void) {}

  /** Stands for election; resolves once the first try is answered (leading or not). */
  static async stand (pool: Pool, name: string, onError: (err: unknown) => void = () => {}): Promise<PostgresElection> {
    const e = new PostgresElection(pool, name, onError)
    await e.campaign()
    return e
  }

  get leads (): boolean { return this.leading }

  onLead (fn: () => void): void {
    this.listeners.push(fn)
    if (this.leading) fn()
  }

  /** Ends the election's connection (releasing the lock when held). */
  async close (): Promise<void> {
    this.closed = true
    if (this.retry !== null) clearTimeout(this.retry)
    this.leading = false
    const client = this.client
    this.client = null
    // Destroyed, not returned to the pool: the session, and with it the lock or the wait, ends.
    client?.release(true)
  }

  /** Tries the lock; when another holds it, waits for it in the background. */
  private async campaign (): Promise<void> {
    if (this.closed) return
    let client: PoolClient
    try {
      client = await this.pool.connect()
    } catch (err) {
      this.onError(err)
      this.scheduleRetry()
      return
    }
    if (this.closed) { client.release(true); return }
    this.client = client
    client.on('error', (err) => { this.lost(client, err) })
    try {
      const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [ELECTION_LOCK_CLASS, this.name])
      if (r.rows[0]?.ok === true) { this.won(); return }
    } catch (err) {
      this.lost(client, err)
      return
    }
    // A follower: wait for the lock on this connection; it is granted when the leader's session ends.
    client.query('SELECT pg_advisory_lock($1, hashtext($2))', [ELECTION_LOCK_CLASS, this.name])
      .then(() => { if (this.client === client) this.won() })
      .catch((err: unknown) => { this.lost(client, err) })
  }

  private won (): void {
    if (this.closed || this.leading) return
    this.leading = true
    for (const fn of this.listeners) fn()
  }

  private lost (client: PoolClient, err: unknown): void {
    if (this.client !== client) return
    this.client = null
    this.leading = false
    client.release(true)
    if (this.closed) return
    this.onError(err)
    this.scheduleRetry()
  }

  private scheduleRetry (): void {
    if (this.closed || this.retry !== null) return
    this.retry = setTimeout(() => { this.retry = null; void this.campaign() }, RECONNECT_MS)
    this.retry.unref()
  }
}
