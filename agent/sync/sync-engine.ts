import type { Logger } from 'pino'
import { MAX_BATCH_BYTES, MAX_BATCH_ITEMS } from '../../shared/schemas/result.js'
import type { AgentRemoteConfig, Heartbeat, SyncReply, SyncRequest } from '../../shared/schemas/fleet.js'
import { TOCDO_VERSION } from '../../shared/version.js'
import type { FleetOutcome, SerializedBody } from '../delivery/fleet-client.js'
import type { Outbox, PendingRow } from '../outbox/outbox.js'
import { BACKOFF_BASE_MS, BACKOFF_CAP_MS, backoffDelayMs, parseRetryAfterMs } from './backoff.js'
import type { ClockEstimator } from './clock-estimator.js'
import { checkRemoteConfig } from './remote-config.js'

/**
 * One sync exchange at a time: heartbeat plus the oldest pending results, then the agent's
 * reaction to whatever came back (fleet-protocol.md §9). The engine decides only what to do
 * and how long to wait; the loop that waits lives in agent.ts.
 */
export type FleetState = 'active' | 'revoked' | 'decommissioned'

export interface SyncClock { wall: () => number, mono: () => number }

export interface SyncEngineDeps {
  outbox: Outbox
  collector: string
  token: string
  agentId: string
  clock: SyncClock
  random: () => number
  estimator: ClockEstimator
  post: (collector: string, token: string, body: SyncRequest | SerializedBody, signal?: AbortSignal) => Promise<FleetOutcome<SyncReply>>
  log: Logger
  configVersion: () => number | null
  /** Called with a config that passed validation; persists and applies it. */
  applyConfig: (config: AgentRemoteConfig) => void
  startedMono: number
  /** Normal interval between syncs (300 s ± 10 %). */
  intervalMs?: number
  maxItems?: number
  maxBytes?: number
  backoffBaseMs?: number
  backoffCapMs?: number
}

export interface SyncStep {
  /** How long to wait before the next exchange; null: stop syncing (decommissioned). */
  delayMs: number | null
  status: number | 'network'
  sent: number
  action: string
}

const HOUR_MS = 3_600_000
const MIN_BATCH = 10
/** The same refusal of the same batch this many times in a row means one of its records is poison. */
const MAX_SAME_FAILURE = 3
/** Successful syncs at a reduced batch size before trying twice as many again. */
const GROW_AFTER_OK = 20

/**
 * The sync request around the stored result bodies, sent as they are: the outbox wrote each
 * body once in its final form (seq included), so it is neither parsed nor serialised again.
 */
export function syncBody (head: Omit<SyncRequest, 'results'>, rows: readonly PendingRow[]): SerializedBody {
  const fields = Object.entries(head).filter(([, v]) => v !== undefined).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
  return { serialized: `{${[...fields, `"results":[${rows.map((r) => r.body).join(',')}]`].join(',')}}` }
}

export class SyncEngine {
  state: FleetState
  upgradeRequiredSince: number | null
  private failures = 0
  private batchLimit: number
  private okSinceShrink = 0
  /** The last refusal: which batch (seq range), which status and code, how many times in a row. */
  private strike: { key: string, count: number } | null = null
  /**
   * A single result the collector failed on (5xx) MAX_SAME_FAILURE times: the next sync carries
   * the heartbeat alone; if the collector takes that, the fault is the record's and it becomes a
   * dead letter; if not, the collector itself is failing and the record stays pending.
   */
  private suspect: { seq: number, reason: string } | null = null
  private readonly d: SyncEngineDeps & { intervalMs: number, maxItems: number, maxBytes: number, backoffBaseMs: number, backoffCapMs: number }

  constructor (deps: SyncEngineDeps) {
    this.d = { intervalMs: 300_000, maxItems: MAX_BATCH_ITEMS, maxBytes: MAX_BATCH_BYTES, backoffBaseMs: BACKOFF_BASE_MS, backoffCapMs: BACKOFF_CAP_MS, ...deps }
    this.batchLimit = this.d.maxItems
    const saved = deps.outbox.getMeta('fleetState')
    this.state = saved === 'revoked' || saved === 'decommissioned' ? saved : 'active'
    const up = deps.outbox.getMeta('upgradeRequiredSince')
    this.upgradeRequiredSince = up === null ? null : Number(up)
  }

  get batchSize (): number { return this.batchLimit }

  private setState (s: FleetState): void {
    if (s !== this.state) this.d.log.warn({ from: this.state, to: s }, 'agent state changed by the collector')
    this.state = s
    this.d.outbox.setMeta('fleetState', s)
  }

  private backoff (retryAfterMs: number | null = null): number {
    const n = this.failures
    this.failures++
    return Math.max(retryAfterMs ?? 0, backoffDelayMs(n, this.d.random, this.d.backoffBaseMs, this.d.backoffCapMs))
  }

  private normalDelay (nextSyncS?: number): number {
    const centre = nextSyncS !== undefined ? nextSyncS * 1000 : this.d.intervalMs
    return centre * (0.9 + 0.2 * this.d.random())
  }

  heartbeat (): Heartbeat & Record<string, unknown> {
    const { outbox, clock } = this.d
    const c = outbox.counters()
    const rejected = outbox.getMeta('configRejected')
    return {
      agentVersion: TOCDO_VERSION,
      configVersion: this.d.configVersion(),
      uptimeS: Math.round((clock.mono() - this.d.startedMono) / 1000),
      queue: outbox.stats(),
      counters: { skippedCrossTraffic: c.skippedCrossTraffic, skippedBudget: c.skippedBudget, storageFull: c.storageFull, missedSlots: c.missedSlots },
      clock: this.d.estimator.get(),
      // Beyond the contract's required fields; the collector keeps unknown heartbeat fields.
      expired: c.expired,
      upgradeRequired: this.upgradeRequiredSince !== null,
      ...(rejected === null ? {} : { configRejected: JSON.parse(rejected) as unknown })
    }
  }

  /** Results go out only when the collector is taking them: not while revoked, and after a 422 only hourly. */
  private pickBatch (): PendingRow[] {
    if (this.state !== 'active') return []
    if (this.upgradeRequiredSince !== null && this.d.clock.wall() - this.upgradeRequiredSince < HOUR_MS) return []
    if (this.suspect !== null) return []
    return this.d.outbox.nextBatch(this.batchLimit, this.d.maxBytes)
  }

  async syncOnce (signal?: AbortSignal): Promise<SyncStep> {
    const { outbox, clock, log } = this.d
    if (this.state === 'decommissioned') return { delayMs: null, status: 410, sent: 0, action: 'decommissioned: not syncing' }
    outbox.expire()
    const rows = this.pickBatch()
    const body = syncBody({
      agentId: this.d.agentId,
      sentAt: new Date(clock.wall()).toISOString(),
      heartbeat: this.heartbeat()
    }, rows)
    const tSend = clock.wall()
    const m0 = clock.mono()
    let outcome: FleetOutcome<SyncReply>
    try {
      outcome = await this.d.post(this.d.collector, this.d.token, body, signal)
    } catch (err) {
      const delayMs = this.backoff()
      outbox.setMeta('lastSyncError', `${new Date(tSend).toISOString()} ${(err as Error).message}`)
      log.warn({ err: (err as Error).message, pending: outbox.stats().pending, retryInS: Math.round(delayMs / 1000) }, 'collector unreachable; results stay in the outbox')
      return { delayMs, status: 'network', sent: rows.length, action: 'back off' }
    }
    const rtt = clock.mono() - m0
    if (outcome.ok) return this.onSuccess(outcome.body, rows, tSend, rtt)
    outbox.setMeta('lastSyncError', `${new Date(tSend).toISOString()} HTTP ${outcome.status} ${outcome.code}: ${outcome.message}`)
    const ctx = { status: outcome.status, code: outcome.code, reason: outcome.message, sent: rows.length }
    const step = (delayMs: number | null, action: string): SyncStep => {
      log.warn({ ...ctx, action, retryInS: delayMs === null ? null : Math.round(delayMs / 1000) }, 'collector refused the sync')
      return { delayMs, status: outcome.status, sent: rows.length, action }
    }
    if (outcome.status === 400 || (outcome.status >= 500 && outcome.status !== 503 && outcome.status !== 507)) {
      return this.onRepeatedFailure(rows, outcome.status, `${outcome.code}: ${outcome.message}`, step)
    }
    switch (outcome.status) {
      case 401:
        // Never delete the identity: a 401 may be a collector misconfiguration (SIMET).
        return step(Math.max(this.d.backoffBaseMs, this.backoff()), 'keep identity, retry')
      case 403:
        this.setState('revoked')
        this.failures = 0
        return step(HOUR_MS, 'revoked: keep data, no heavy tests, check hourly')
      case 410:
        this.setState('decommissioned')
        return step(null, 'decommissioned: stop measuring, keep the outbox for export')
      case 413:
        if (rows.length > MIN_BATCH) {
          this.batchLimit = Math.max(MIN_BATCH, Math.floor(rows.length / 2))
          this.okSinceShrink = 0
          return step(1000, `batch halved to ${this.batchLimit}`)
        }
        return step(this.backoff(), 'back off')
      case 422:
        this.upgradeRequiredSince = clock.wall()
        outbox.setMeta('upgradeRequiredSince', String(this.upgradeRequiredSince))
        return step(this.backoff(), 'keep rows, flag upgrade required')
      case 429: case 503:
        return step(this.backoff(parseRetryAfterMs(outcome.retryAfter, clock.wall())), 'wait max(Retry-After, back-off)')
      default:
        return step(this.backoff(), 'back off')
    }
  }

  /**
   * A refusal that may come from one record of the batch (400, or a 5xx other than busy): the
   * same refusal of the same batch MAX_SAME_FAILURE times splits it in half, so the records
   * before the poison one go through; a single record refused that often becomes a dead letter
   * (for a 5xx only once a heartbeat-only sync shows that the collector itself works). Nothing
   * else is ever dropped, and one poison record no longer blocks every later result.
   */
  private onRepeatedFailure (rows: PendingRow[], status: number, reason: string, step: (delayMs: number | null, action: string) => SyncStep): SyncStep {
    if (rows.length === 0) {
      // The heartbeat alone failed: whatever it is, it is not a record's fault.
      return step(this.backoff(), this.suspect === null ? 'back off' : 'back off; the suspect record stays pending')
    }
    const key = `${rows[0]?.seq}-${rows[rows.length - 1]?.seq}:${status}:${reason}`
    this.strike = this.strike?.key === key ? { key, count: this.strike.count + 1 } : { key, count: 1 }
    if (this.strike.count < MAX_SAME_FAILURE) return step(this.backoff(), `retry (${this.strike.count} of ${MAX_SAME_FAILURE})`)
    this.strike = null
    if (rows.length > 1) {
      this.batchLimit = Math.ceil(rows.length / 2)
      this.okSinceShrink = 0
      // Searching for the poison record is progress, not a collector outage: no growing back-off.
      this.failures = 0
      return step(this.backoff(), `batch split to ${this.batchLimit} to isolate the record the collector refuses`)
    }
    const row = rows[0] as PendingRow
    const why = `the collector refused this result alone ${MAX_SAME_FAILURE} times (HTTP ${status} ${reason})`
    if (status === 400) {
      this.d.outbox.markDead([row.seq], 'rejected', why)
      this.failures = 0
      return step(this.backoff(), `result ${row.resultId} marked dead`)
    }
    this.suspect = { seq: row.seq, reason: why }
    return step(this.backoff(), `result ${row.resultId} suspected; checking the collector with a heartbeat-only sync`)
  }

  private onSuccess (reply: SyncReply, rows: PendingRow[], tSend: number, rtt: number): SyncStep {
    const { outbox, log } = this.d
    this.failures = 0
    this.strike = null
    const clearedSuspect = this.suspect !== null && rows.length === 0
    if (clearedSuspect && this.suspect !== null) {
      outbox.markDead([this.suspect.seq], 'rejected', `${this.suspect.reason}, while it took a heartbeat-only sync`)
      log.warn({ seq: this.suspect.seq, reason: this.suspect.reason }, 'result the collector cannot store moved to the dead letters')
      this.suspect = null
    }
    if (this.state === 'revoked') this.setState('active')
    if (rows.length > 0 && this.upgradeRequiredSince !== null && reply.acks.accepted + reply.acks.duplicate > 0) {
      this.upgradeRequiredSince = null
      outbox.deleteMeta('upgradeRequiredSince')
    }
    this.d.estimator.add(tSend, rtt, Date.parse(reply.serverTime))
    const applied = outbox.applyAcks(rows, reply.acks.items)
    outbox.setMeta('lastSyncAt', new Date(this.d.clock.wall()).toISOString())
    if (reply.config !== null && reply.config !== undefined) this.takeConfig(reply.config)
    // After a 413 the smaller batch stays for a while: growing back at once would hit the limit again.
    if (rows.length > 0 && this.batchLimit < this.d.maxItems && ++this.okSinceShrink >= GROW_AFTER_OK) {
      this.batchLimit = Math.min(this.d.maxItems, this.batchLimit * 2)
      this.okSinceShrink = 0
    }
    log.info({ sent: rows.length, ...applied, acks: { accepted: reply.acks.accepted, duplicate: reply.acks.duplicate, conflict: reply.acks.conflict, rejected: reply.acks.rejected }, rttMs: Math.round(rtt), clock: this.d.estimator.get() }, 'synced')
    // A full batch means more are waiting: drain in quick succession rather than every 5 min.
    const more = (clearedSuspect || (rows.length > 0 && applied.untouched < rows.length)) && outbox.stats().pending > 0 && this.state === 'active'
    const delayMs = this.state === 'revoked' ? HOUR_MS : more ? 1000 + this.d.random() * 1000 : this.normalDelay(reply.nextSyncS)
    return { delayMs, status: 200, sent: rows.length, action: more ? 'drain' : 'ok' }
  }

  private takeConfig (candidate: unknown): void {
    const check = checkRemoteConfig(candidate)
    const version = (candidate as { version?: unknown }).version
    if (!check.ok) {
      this.d.log.error({ version, reason: check.reason }, 'remote config refused; the previous one stays in force')
      this.d.outbox.setMeta('configRejected', JSON.stringify({ version: typeof version === 'number' ? version : null, reason: check.reason }))
      return
    }
    this.d.applyConfig(check.config)
    this.d.outbox.deleteMeta('configRejected')
    this.d.log.info({ version: check.config.version }, 'remote config applied')
  }
}
