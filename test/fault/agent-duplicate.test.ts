import { createServer, type Server } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, describe, expect, it } from 'vitest'
import { backends, type CollectorDatabase } from '../helpers/stores.js'
import { Outbox } from '../../agent/outbox/outbox.js'
import { skipRecord } from '../../agent/scheduler/skip-record.js'
import { spawnCollector, type CollectorProcess } from '../helpers/collector-process.js'
import { enrolledAgent } from '../helpers/fleet-client.js'
import { FAST_AGENT_ENV, spawnAgent } from '../helpers/agent-process.js'

/**
 * T5, lost acknowledgement: a forwarding proxy passes each sync to the real collector, which
 * commits, and then cuts the agent's connection instead of returning the reply (twice). The
 * agent re-sends, the collector answers `duplicate`, the agent deletes the rows: every
 * result stored once.
 */
const ADMIN = 'fault-admin-token-0123456789'

interface Seen { results: number, acks: { accepted: number, duplicate: number } | null, dropped: boolean }

async function lossyProxy (target: string, drop: number): Promise<{ url: string, seen: Seen[], server: Server }> {
  const seen: Seen[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void (async () => {
        const headers: Record<string, string> = {}
        for (const h of ['content-type', 'content-encoding', 'authorization']) if (typeof req.headers[h] === 'string') headers[h] = req.headers[h]
        const up = await request(new URL(req.url ?? '/', target), { method: 'POST', headers, body: Buffer.concat(chunks) })
        const text = await up.body.text()
        const parsed = JSON.parse(text) as { acks?: { accepted: number, duplicate: number, items: unknown[] } }
        const lose = seen.filter((s) => s.dropped).length < drop && (parsed.acks?.items.length ?? 0) > 0
        seen.push({ results: parsed.acks?.items.length ?? 0, acks: parsed.acks ?? null, dropped: lose })
        if (lose) { req.socket.destroy(); return }
        res.writeHead(up.statusCode, { 'content-type': 'application/json' })
        res.end(text)
      })()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen, server }
}

describe.each(backends)('duplicate replays after a lost acknowledgement ($name)', ({ collectorDatabase }) => {
  let store: CollectorDatabase | undefined
  const collectorDir = mkdtempSync(join(tmpdir(), 'tocdo-dup-c-'))
  const agentDir = mkdtempSync(join(tmpdir(), 'tocdo-dup-a-'))
  let c: CollectorProcess | undefined
  let proxy: Server | undefined
  afterAll(async () => {
    proxy?.closeAllConnections(); proxy?.close()
    c?.proc.kill('SIGTERM')
    await c?.exited
    await store?.close()
    rmSync(collectorDir, { recursive: true, force: true })
    rmSync(agentDir, { recursive: true, force: true })
  })

  it('lost ack → resend → duplicate → deleted; stored once', async () => {
    store = await collectorDatabase(collectorDir)
    c = await spawnCollector({ dataDir: collectorDir, env: { ...store.env, TOCDO_ADMIN_TOKEN: ADMIN, TOCDO_SYNC_RATE_LIMIT_MAX: '100000' } })
    const { agentId, token } = await enrolledAgent(c.url, ADMIN)
    const ob = new Outbox(agentDir)
    for (let i = 0; i < 700; i++) ob.add(skipRecord({ code: 'TEST', detail: `dup ${i}`, measuredAt: new Date(), durationMs: 0, clock: { offsetMs: null, sinceSyncS: null }, context: {} }))
    const produced = new Set((ob.db.prepare('SELECT result_id FROM outbox').all() as Array<{ result_id: string }>).map((r) => r.result_id))
    ob.close()
    const p = await lossyProxy(c.url, 2)
    proxy = p.server

    const a = spawnAgent(['run', '--data-dir', agentDir, '--collector', p.url, '--token', token, '--agent-id', agentId, '--server', c.url], { env: FAST_AGENT_ENV })
    const deadline = Date.now() + 60_000
    for (;;) {
      const o = new Outbox(agentDir); const pending = o.stats().pending; o.close()
      if (pending === 0) break
      if (Date.now() > deadline) throw new Error(`not drained (${pending} left):\n${a.output().slice(-2000)}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    a.proc.kill('SIGTERM')
    expect(await a.exited).toBe(0)

    const dropped = p.seen.filter((s) => s.dropped)
    expect(dropped).toHaveLength(2)
    expect(dropped[0]!.acks).toMatchObject({ accepted: 500, duplicate: 0 })
    // The re-send of the first batch is answered duplicate item by item.
    const resend = p.seen[1]!
    expect(resend.acks).toMatchObject({ duplicate: 500, accepted: 0 })
    const totals = p.seen.reduce((t, s) => ({ accepted: t.accepted + (s.acks?.accepted ?? 0), duplicate: t.duplicate + (s.acks?.duplicate ?? 0) }), { accepted: 0, duplicate: 0 })
    expect(totals.accepted).toBe(700)
    expect(totals.duplicate).toBeGreaterThanOrEqual(500)
    expect(a.logs().filter((l) => l.msg === 'collector unreachable; results stay in the outbox')).toHaveLength(2)

    const stored = (await store.rows('result')).filter((r) => r.agent_id === agentId).map((r) => r.result_id as string)
    expect(stored).toHaveLength(700)
    expect(new Set(stored)).toEqual(produced)
    const o = new Outbox(agentDir)
    expect(o.stats()).toMatchObject({ pending: 0, dead: 0 })
    o.close()
  })
})
