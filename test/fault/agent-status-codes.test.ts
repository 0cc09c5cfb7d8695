import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Outbox } from '../../agent/outbox/outbox.js'
import { skipRecord } from '../../agent/scheduler/skip-record.js'
import { FAST_AGENT_ENV, runAgent, spawnAgent } from '../helpers/agent-process.js'
import { until } from '../helpers/until.js'
import { ackAll, startStatusServer, type Answer, type SeenRequest, type StatusServer } from '../helpers/status-server.js'

/**
 * Every status the collector can send, answered by a real loopback peer to a real agent
 * process; the agent's reaction must match fleet-protocol.md §9.
 */
const cleanups: Array<() => unknown> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

const TOKEN = 'tok_' + 'x'.repeat(40)

function seeded (n: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'tocdo-agent-status-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const ob = new Outbox(dir)
  for (let i = 0; i < n; i++) ob.add(skipRecord({ code: 'TEST', detail: `seed ${i}`, measuredAt: new Date(), durationMs: 0, clock: { offsetMs: null, sinceSyncS: null }, context: {} }))
  ob.close()
  // An identity as `enroll` writes it, to show a 401 never deletes it.
  writeFileSync(join(dir, 'identity.json'), JSON.stringify({ agentId: 'agent-7', token: TOKEN, collector: 'http://127.0.0.1:9', enrolledAt: new Date().toISOString(), agency: null }), { mode: 0o600 })
  return dir
}

async function peer (fn: (req: SeenRequest, i: number) => Answer): Promise<StatusServer> {
  const s = await startStatusServer(fn)
  cleanups.push(async () => { await s.close() })
  return s
}

const err = (status: number, code: string, headers: Record<string, string> = {}) => (): Answer => ({ status, headers, body: { code, message: `test ${status}` } })
const results = (r: SeenRequest): Array<{ id: string }> => (r.body as { results: Array<{ id: string }> }).results
const hb = (r: SeenRequest): Record<string, unknown> => (r.body as { heartbeat: Record<string, unknown> }).heartbeat

// A bound, not a speed: on a machine busy with other work an agent can take long to make
// its requests, so the wait ends well inside the test's own timeout (vitest.config.ts).
async function untilRequests (s: StatusServer, n: number, timeoutMs = 90_000): Promise<void> {
  const t0 = Date.now()
  while (s.requests.length < n) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`only ${s.requests.length} of ${n} requests arrived`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Every sync ends in exactly one of these agent log lines (agent/sync/sync-engine.ts). */
const SYNC_OUTCOMES = new Set(['synced', 'collector refused the sync', 'collector unreachable; results stay in the outbox'])

/**
 * Runs the daemon against `s` until it has handled the answers to `n` requests (its own log
 * says so), then stops it with SIGTERM. `observeMs` > 0 keeps it running that much longer, to
 * show that nothing else is sent in that time (a negative check has no event to await).
 */
async function daemon (dir: string, s: StatusServer, n: number, observeMs = 0): Promise<{ code: number | string | null, output: string }> {
  const a = spawnAgent(['run', '--data-dir', dir, '--collector', s.url], { env: FAST_AGENT_ENV })
  cleanups.push(() => { a.proc.kill('SIGKILL') })
  await untilRequests(s, n)
  await until(() => a.logs().filter((l) => SYNC_OUTCOMES.has(l.msg as string)).length >= n, { what: `the agent's log of ${n} sync outcomes` })
  if (observeMs > 0) await new Promise((resolve) => setTimeout(resolve, observeMs))
  a.proc.kill('SIGTERM')
  return { code: await a.exited, output: a.output() }
}

const state = (dir: string): { pending: number, dead: number, meta: (k: string) => string | null } => {
  const ob = new Outbox(dir)
  const s = ob.stats()
  const meta = Object.fromEntries((ob.db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string, value: string }>).map((r) => [r.key, r.value]))
  ob.close()
  return { pending: s.pending, dead: s.dead, meta: (k) => meta[k] ?? null }
}

describe('agent reaction to every collector status (real agent process, loopback peer)', () => {
  it('200: per-item acks; SIGTERM stops it cleanly', async () => {
    const dir = seeded(7)
    const s = await peer((req) => ackAll(req))
    const r = await daemon(dir, s, 1)
    expect(r.code).toBe(0)
    expect(results(s.requests[0]!)).toHaveLength(7)
    expect(s.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(state(dir)).toMatchObject({ pending: 0, dead: 0 })
    expect(r.output).not.toContain(TOKEN)
  })

  // A collector that refuses any batch holding the third seeded record ("seed 2"), as one
  // poison record did (issue 11); every other record must still go through.
  const holdsPoison = (req: SeenRequest): boolean => (req.body as { results: Array<{ error: { detail: string } }> }).results.some((r) => r.error.detail === 'seed 2')
  const details = (dir: string, table: 'outbox' | 'dead'): string[] => {
    const ob = new Outbox(dir)
    const out = (ob.db.prepare(`SELECT body FROM ${table}`).all() as Array<{ body: string }>).map((r) => (JSON.parse(r.body) as { error: { detail: string } }).error.detail)
    ob.close()
    return out
  }

  it('400 three times on the same rows → the batch is split until the one poison record is a dead letter; the rest are delivered', async () => {
    const dir = seeded(4)
    const s = await peer((req) => holdsPoison(req) ? err(400, 'TOCDO_ERR_VALIDATION')() : ackAll(req))
    const r = await daemon(dir, s, 11)
    // [0..3] refused 3 × → split to 2: [0, 1] taken, [2, 3] refused 3 × → split to 1: [2] refused 3 × → dead; then [3] taken.
    expect(s.requests.map((q) => results(q).length)).toEqual([4, 4, 4, 2, 2, 2, 2, 1, 1, 1, 1])
    expect(state(dir)).toMatchObject({ pending: 0, dead: 1 })
    expect(details(dir, 'dead')).toEqual(['seed 2'])
    expect(r.output).toMatch(/marked dead/)
  })

  it('a 500 caused by one record: split, then a heartbeat-only sync shows the collector works, and only that record becomes a dead letter', async () => {
    const dir = seeded(4)
    const s = await peer((req) => holdsPoison(req) ? err(500, 'TOCDO_ERR_INTERNAL')() : ackAll(req))
    await daemon(dir, s, 12)
    // As above, but the lone record's third 500 is followed by a heartbeat-only sync (0), which the collector takes.
    expect(s.requests.map((q) => results(q).length)).toEqual([4, 4, 4, 2, 2, 2, 2, 1, 1, 1, 0, 1])
    expect(state(dir)).toMatchObject({ pending: 0, dead: 1 })
    expect(details(dir, 'dead')).toEqual(['seed 2'])
  })

  it('a collector failing every sync (500, heartbeat too) keeps every record pending', async () => {
    const dir = seeded(4)
    const s = await peer(err(500, 'TOCDO_ERR_INTERNAL'))
    await daemon(dir, s, 14)
    expect(state(dir)).toMatchObject({ pending: 4, dead: 0 })
    // The search went down to one record, and then only heartbeats were tried.
    expect(s.requests.map((q) => results(q).length).slice(0, 14)).toEqual([4, 4, 4, 2, 2, 2, 1, 1, 1, 0, 0, 0, 0, 0])
  })

  it('401: keeps the identity and the rows, retries after the back-off base', async () => {
    const dir = seeded(3)
    const before = readFileSync(join(dir, 'identity.json'), 'utf8')
    const s = await peer(err(401, 'TOCDO_ERR_AUTH_INVALID'))
    await daemon(dir, s, 2)
    expect(s.requests[1]!.at - s.requests[0]!.at).toBeGreaterThanOrEqual(150)
    expect(readFileSync(join(dir, 'identity.json'), 'utf8')).toBe(before)
    expect(statSync(join(dir, 'identity.json')).mode & 0o777).toBe(0o600)
    expect(state(dir)).toMatchObject({ pending: 3, dead: 0 })
  })

  it('403: revoked: keeps data, stops sending results, checks back only hourly', async () => {
    const dir = seeded(3)
    const s = await peer(err(403, 'TOCDO_ERR_AGENT_REVOKED'))
    await daemon(dir, s, 1, 2500)
    expect(s.requests).toHaveLength(1)
    const st = state(dir)
    expect(st).toMatchObject({ pending: 3, dead: 0 })
    expect(st.meta('fleetState')).toBe('revoked')
    // After a restart it still sends heartbeats only.
    const s2 = await peer((req) => ackAll(req))
    await daemon(dir, s2, 1)
    expect(results(s2.requests[0]!)).toHaveLength(0)
    expect(state(dir).meta('fleetState')).toBe('active')
  })

  it('410: decommissioned: the agent stops by itself, keeps the outbox, and never calls again', async () => {
    const dir = seeded(3)
    const s = await peer(err(410, 'TOCDO_ERR_AGENT_DECOMMISSIONED'))
    const r = await runAgent(['run', '--data-dir', dir, '--collector', s.url], { env: FAST_AGENT_ENV })
    expect(r.code).toBe(0)
    expect(r.output).toMatch(/decommissioned/)
    expect(state(dir)).toMatchObject({ pending: 3 })
    const again = await runAgent(['run', '--data-dir', dir, '--collector', s.url], { env: FAST_AGENT_ENV })
    expect(again.output).toMatch(/decommissioned/)
    expect(s.requests).toHaveLength(1)
    const status = await runAgent(['status', '--data-dir', dir])
    expect(status.output).toMatch(/state +decommissioned/)
    expect(status.output).toMatch(/3 waiting/)
  })

  it('413: halves the batch (minimum 10) until the collector takes it', async () => {
    const dir = seeded(100)
    const s = await peer((req) => results(req).length > 20 ? err(413, 'TOCDO_ERR_PAYLOAD_TOO_LARGE')() : ackAll(req))
    await daemon(dir, s, 12)
    expect(s.requests.slice(0, 5).map((r) => results(r).length)).toEqual([100, 50, 25, 12, 12])
    expect(state(dir).pending).toBe(0)
  })

  it('422: keeps the rows and flags upgradeRequired in the heartbeat', async () => {
    const dir = seeded(2)
    const s = await peer((req, i) => i === 0 ? err(422, 'TOCDO_ERR_UNSUPPORTED_SCHEMA')() : ackAll(req))
    await daemon(dir, s, 2)
    expect(results(s.requests[1]!)).toHaveLength(0)
    expect(hb(s.requests[1]!).upgradeRequired).toBe(true)
    expect(state(dir)).toMatchObject({ pending: 2, dead: 0 })
  })

  for (const status of [429, 503]) {
    it(`${status}: waits max(Retry-After, back-off)`, async () => {
      const dir = seeded(2)
      const s = await peer((req, i) => i === 0 ? err(status, 'TOCDO_ERR_SERVER_BUSY', { 'retry-after': '2' })() : ackAll(req))
      await daemon(dir, s, 2)
      expect(s.requests[1]!.at - s.requests[0]!.at).toBeGreaterThanOrEqual(1900)
      expect(state(dir).pending).toBe(0)
    })
  }
})
