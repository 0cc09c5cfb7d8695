import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { postSync } from '../../agent/delivery/fleet-client.js'
import { Outbox } from '../../agent/outbox/outbox.js'
import { skipRecord } from '../../agent/scheduler/skip-record.js'
import { backoffDelayMs, parseRetryAfterMs } from '../../agent/sync/backoff.js'
import { ClockEstimator } from '../../agent/sync/clock-estimator.js'
import { DEFAULT_SCHEDULE } from '../../shared/schedule.js'
import { SyncEngine } from '../../agent/sync/sync-engine.js'
import type { AgentRemoteConfig } from '../../shared/schemas/fleet.js'
import { ackAll, startStatusServer, type StatusServer } from '../helpers/status-server.js'

const cleanups: Array<() => unknown> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

const rec = (detail = 'x') => skipRecord({ code: 'TEST', detail, measuredAt: new Date(), durationMs: 0, clock: { offsetMs: null, sinceSyncS: null }, context: {} })
const log = pino({ level: 'silent' })

async function setup (rows: number, random: () => number = () => 0.5) {
  const dir = mkdtempSync(join(tmpdir(), 'tocdo-sync-'))
  const outbox = new Outbox(dir)
  for (let i = 0; i < rows; i++) outbox.add(rec(`r${i}`))
  const server = await startStatusServer((req) => ackAll(req))
  const applied: AgentRemoteConfig[] = []
  const engine = new SyncEngine({
    outbox,
    collector: server.url,
    token: 'T'.repeat(43),
    agentId: 'agent-1',
    clock: { wall: Date.now, mono: () => performance.now() },
    random,
    estimator: new ClockEstimator(() => performance.now()),
    post: postSync,
    log,
    configVersion: () => applied.at(-1)?.version ?? null,
    applyConfig: (c) => { applied.push(c) },
    startedMono: performance.now()
  })
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => { outbox.close() }, async () => { await server.close() })
  return { outbox, server, engine, applied }
}

const results = (s: StatusServer, i: number): Array<{ id: string, seq: number }> => (s.requests[i]!.body as { results: Array<{ id: string, seq: number }> }).results
const heartbeat = (s: StatusServer, i: number): Record<string, unknown> => (s.requests[i]!.body as { heartbeat: Record<string, unknown> }).heartbeat

const config: AgentRemoteConfig = { version: 7, schedule: DEFAULT_SCHEDULE, servers: ['https://dl1.example.vn'], monthlyBudgetMB: 10_000, maxSecondsPerDirection: 15 }

describe('sync engine against a loopback collector peer', () => {
  it('sends gzip with the bearer token, ≤ 500 items per batch, drains quickly, deletes only acknowledged rows', async () => {
    const { outbox, server, engine } = await setup(1200)
    const first = await engine.syncOnce()
    expect(server.requests[0]!.headers['content-encoding']).toBe('gzip')
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${'T'.repeat(43)}`)
    expect(server.requests[0]!.url).toBe('/api/v1/sync')
    expect(results(server, 0)).toHaveLength(500)
    expect(first).toMatchObject({ status: 200, action: 'drain' })
    expect(first.delayMs).toBeLessThan(3000)
    expect(heartbeat(server, 0)).toMatchObject({ queue: { pending: 1200, dead: 0 }, configVersion: null, clock: { offsetMs: null, sinceSyncS: null } })
    await engine.syncOnce(); const last = await engine.syncOnce()
    expect(outbox.stats().pending).toBe(0)
    expect(last.action).toBe('ok')
    expect(last.delayMs).toBeGreaterThanOrEqual(270_000)
    expect(last.delayMs).toBeLessThanOrEqual(330_000)
    const ids = server.requests.flatMap((_, i) => results(server, i).map((r) => r.id))
    expect(new Set(ids).size).toBe(1200)
    expect(heartbeat(server, 1).clock).toMatchObject({ offsetMs: expect.any(Number), sinceSyncS: 0 })
  })

  it('keeps each batch under 512 KiB uncompressed', async () => {
    const big = await setup(0)
    for (let i = 0; i < 700; i++) big.outbox.add(rec('p'.repeat(990)))
    await big.engine.syncOnce()
    const sent = JSON.stringify(results(big.server, 0))
    expect(Buffer.byteLength(sent)).toBeLessThanOrEqual(512 * 1024)
    expect(results(big.server, 0).length).toBeLessThan(500)
  })

  it('lost ack → resend → duplicate → deleted; items not mentioned stay pending', async () => {
    const { outbox, server, engine } = await setup(5)
    server.respond(() => ({ status: 500, body: { code: 'TOCDO_ERR_INTERNAL', message: 'reply lost' } }))
    const failed = await engine.syncOnce()
    expect(failed.delayMs).toBe(30_000)
    expect(outbox.stats().pending).toBe(5)
    server.respond((req) => {
      const r = ackAll(req, 'duplicate')
      const body = r.body as { acks: { items: unknown[] } }
      body.acks.items = body.acks.items.slice(0, 4)
      return r
    })
    await engine.syncOnce()
    expect(results(server, 1).map((r) => r.id)).toEqual(results(server, 0).map((r) => r.id))
    expect(outbox.stats().pending).toBe(1)
  })

  it('conflict and rejected go to the dead letters with the reason and are counted in the heartbeat', async () => {
    const { outbox, server, engine } = await setup(4)
    server.respond((req) => {
      const rs = (req.body as { results: Array<{ id: string }> }).results
      const items = rs.map((r, i) => ({ id: r.id, status: i === 0 ? 'conflict' : i === 1 ? 'rejected' : 'accepted', ...(i === 1 ? { reason: 'must be number', field: '/download/mbps' } : {}) }))
      return { status: 200, body: { serverTime: new Date().toISOString(), acks: { items, accepted: 2, duplicate: 0, conflict: 1, rejected: 1 }, config: null, nextSyncS: 300 } }
    })
    await engine.syncOnce()
    expect(outbox.stats()).toMatchObject({ pending: 0, dead: 2 })
    server.respond((req) => ackAll(req))
    await engine.syncOnce()
    expect(heartbeat(server, 1)).toMatchObject({ queue: { dead: 2 } })
  })

  it('400 three times on the same rows → the batch is halved until a lone record refused three times is dead; other statuses never drop data', async () => {
    const { outbox, server, engine } = await setup(3)
    server.respond(() => ({ status: 400, body: { code: 'TOCDO_ERR_VALIDATION', message: 'malformed', field: '/results' } }))
    await engine.syncOnce(); await engine.syncOnce()
    expect(outbox.stats()).toMatchObject({ pending: 3, dead: 0 })
    expect((await engine.syncOnce()).action).toMatch(/split to 2/)
    for (let i = 0; i < 3; i++) await engine.syncOnce()
    expect(outbox.stats()).toMatchObject({ pending: 3, dead: 0 })
    expect(engine.batchSize).toBe(1)
    await engine.syncOnce(); await engine.syncOnce()
    const third = await engine.syncOnce()
    expect(third.action).toMatch(/marked dead/)
    expect(outbox.stats()).toMatchObject({ pending: 2, dead: 1 })
    expect(outbox.deadLetters()[0]!.reason).toMatch(/refused this result alone 3 times \(HTTP 400 TOCDO_ERR_VALIDATION: malformed\)/)
  })

  it('401: keeps rows and state, waits at least 30 s', async () => {
    const { outbox, server, engine } = await setup(2, () => 0)
    server.respond(() => ({ status: 401, body: { code: 'TOCDO_ERR_AUTH_INVALID', message: 'bad token' } }))
    const s = await engine.syncOnce()
    expect(s.delayMs).toBeGreaterThanOrEqual(30_000)
    expect(engine.state).toBe('active')
    expect(outbox.stats().pending).toBe(2)
  })

  it('403: revoked: keeps data, stops sending results, checks hourly, resumes on 200', async () => {
    const { outbox, server, engine } = await setup(2)
    server.respond(() => ({ status: 403, body: { code: 'TOCDO_ERR_AGENT_REVOKED', message: 'revoked' } }))
    const s = await engine.syncOnce()
    expect(s.delayMs).toBe(3_600_000)
    expect(engine.state).toBe('revoked')
    expect(outbox.getMeta('fleetState')).toBe('revoked')
    const hourly = await engine.syncOnce()
    expect(results(server, 1)).toHaveLength(0)
    expect(hourly.delayMs).toBe(3_600_000)
    server.respond((req) => ackAll(req))
    await engine.syncOnce()
    expect(engine.state).toBe('active')
    await engine.syncOnce()
    expect(outbox.stats().pending).toBe(0)
  })

  it('410: decommissioned: stops syncing, keeps the outbox, remembers it across restarts', async () => {
    const { outbox, server, engine } = await setup(2)
    server.respond(() => ({ status: 410, body: { code: 'TOCDO_ERR_AGENT_DECOMMISSIONED', message: 'gone' } }))
    expect((await engine.syncOnce()).delayMs).toBeNull()
    expect(outbox.stats().pending).toBe(2)
    expect(outbox.getMeta('fleetState')).toBe('decommissioned')
    expect((await engine.syncOnce()).delayMs).toBeNull()
    expect(server.requests).toHaveLength(1)
  })

  it('413: halves the batch down to 10, then backs off', async () => {
    const { server, engine } = await setup(600)
    server.respond(() => ({ status: 413, body: { code: 'TOCDO_ERR_PAYLOAD_TOO_LARGE', message: 'too big' } }))
    const sizes: number[] = []
    for (let i = 0; i < 8; i++) { await engine.syncOnce(); sizes.push(results(server, i).length) }
    expect(sizes).toEqual([500, 250, 125, 62, 31, 15, 10, 10])
    server.respond((req) => ackAll(req))
    await engine.syncOnce()
    expect(results(server, 8)).toHaveLength(10)
  })

  it('422: keeps rows, flags upgradeRequired in the heartbeat, sends only heartbeats for an hour', async () => {
    const { outbox, server, engine } = await setup(3)
    server.respond(() => ({ status: 422, body: { code: 'TOCDO_ERR_UNSUPPORTED_SCHEMA', message: 'schema 2.0 unsupported' } }))
    await engine.syncOnce()
    server.respond((req) => ackAll(req))
    await engine.syncOnce()
    expect(results(server, 1)).toHaveLength(0)
    expect(heartbeat(server, 1).upgradeRequired).toBe(true)
    expect(outbox.stats().pending).toBe(3)
  })

  it('429/503: waits max(Retry-After, back-off)', async () => {
    const { server, engine } = await setup(1, () => 0)
    server.respond(() => ({ status: 429, headers: { 'retry-after': '900' }, body: { code: 'TOCDO_ERR_RATE_LIMITED', message: 'slow down' } }))
    expect((await engine.syncOnce()).delayMs).toBe(900_000)
    server.respond(() => ({ status: 503, headers: { 'retry-after': '5' }, body: { code: 'TOCDO_ERR_SERVER_BUSY', message: 'busy' } }))
    const s = await engine.syncOnce()
    expect(s.delayMs).toBe(30_000)
  })

  it('network errors back off; a valid config is applied, an invalid one refused and reported', async () => {
    const { server, engine, applied, outbox } = await setup(0)
    await server.close()
    const down = await engine.syncOnce()
    expect(down.status).toBe('network')
    expect(down.delayMs).toBeGreaterThanOrEqual(30_000)
    const peer = await startStatusServer((req) => ackAll(req, 'accepted', { config }))
    cleanups.push(async () => { await peer.close() })
    const e2 = new SyncEngine({
      outbox,
      collector: peer.url,
      token: 'T'.repeat(43),
      agentId: 'agent-1',
      clock: { wall: Date.now, mono: () => performance.now() },
      random: () => 0.5,
      estimator: new ClockEstimator(() => performance.now()),
      post: postSync,
      log,
      configVersion: () => applied.at(-1)?.version ?? null,
      applyConfig: (c) => { applied.push(c) },
      startedMono: 0
    })
    await e2.syncOnce()
    expect(applied.map((c) => c.version)).toEqual([7])
    peer.respond((req) => ackAll(req, 'accepted', { config: { ...config, version: 8, schedule: { ...config.schedule, fullTestsPerDay: 12 } } }))
    await e2.syncOnce()
    expect(applied.map((c) => c.version)).toEqual([7])
    await e2.syncOnce()
    expect(heartbeat(peer, 2)).toMatchObject({ configVersion: 7, configRejected: { version: 8, reason: expect.stringMatching(/fullTestsPerDay/) } })
  })

  it('estimates the offset of an agent clock a day slow from serverTime', async () => {
    const { server, engine } = await setup(0)
    server.respond((req) => { const a = ackAll(req); (a.body as { serverTime: string }).serverTime = new Date(Date.now() + 86_400_000).toISOString(); return a })
    await engine.syncOnce()
    const off = engine.heartbeat().clock.offsetMs as number
    expect(Math.abs(off - 86_400_000)).toBeLessThan(1000)
  })
})

describe('back-off', () => {
  it('follows uniform(30 s, min(1800 s, 30 s × 2^n))', () => {
    expect(backoffDelayMs(0, () => 0.99)).toBeCloseTo(30_000)
    expect(backoffDelayMs(3, () => 1)).toBe(240_000)
    expect(backoffDelayMs(3, () => 0)).toBe(30_000)
    expect(backoffDelayMs(20, () => 1)).toBe(1_800_000)
  })
  it('6 h outage: median ~28 attempts, 1st–99th percentile within 23–35 (fleet-protocol T1)', () => {
    const counts: number[] = []
    for (let run = 0; run < 4000; run++) {
      let t = 0; let n = 0
      while (true) { t += backoffDelayMs(n, Math.random); if (t > 6 * 3600_000) break; n++ }
      counts.push(n + 1)
    }
    counts.sort((a, b) => a - b)
    const q = (p: number): number => counts[Math.floor(p * (counts.length - 1))]!
    expect(q(0.5)).toBeGreaterThanOrEqual(27); expect(q(0.5)).toBeLessThanOrEqual(30)
    expect(q(0.01)).toBeGreaterThanOrEqual(22); expect(q(0.99)).toBeLessThanOrEqual(36)
  })
  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfterMs('120', 0)).toBe(120_000)
    expect(parseRetryAfterMs(new Date(90_000).toUTCString(), 0)).toBe(90_000)
    expect(parseRetryAfterMs(undefined, 0)).toBeNull()
    expect(parseRetryAfterMs('soon', 0)).toBeNull()
  })
})
