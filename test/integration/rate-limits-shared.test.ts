import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { spawnCollector, type CollectorProcess } from '../helpers/collector-process.js'
import { enrol, enrolledAgent, sync, syncBody } from '../helpers/fleet-client.js'
import { postgresBackend, type CollectorDatabase } from '../helpers/stores.js'

const ADMIN = 'x'.repeat(32)
const SYNC_MAX = 5
const ENROL_MAX = 4

/**
 * Rate limits hold across collectors (issue 13): two collector processes on one PostgreSQL
 * count one agent's syncs and one address's enrolment attempts together, so whichever
 * collector a load balancer sends each request to, the sum stays within the limit, and the 429
 * names the limit and says when to retry.
 */
describe('rate limits shared by two collector processes on one PostgreSQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocdo-rate-shared-'))
  const collectors: CollectorProcess[] = []
  let db: CollectorDatabase | undefined

  afterAll(async () => {
    for (const c of collectors) if (c.proc.exitCode === null && c.proc.signalCode === null) { c.proc.kill('SIGTERM'); await c.exited }
    await db?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('syncs per agent and enrolment attempts per address, alternating between the collectors: the sum keeps each limit', async () => {
    db = await postgresBackend.collectorDatabase(join(dir, 'a'))
    const env = { ...db.env, TOCDO_ADMIN_TOKEN: ADMIN, TOCDO_SYNC_RATE_LIMIT_MAX: String(SYNC_MAX), TOCDO_SYNC_RATE_LIMIT_WINDOW_S: '600', TOCDO_ENROL_RATE_LIMIT_PER_MIN: String(ENROL_MAX), TOCDO_IPV6_PROBE_INTERVAL_MIN: '0' }
    collectors.push(await spawnCollector({ dataDir: join(dir, 'a'), env }), await spawnCollector({ dataDir: join(dir, 'b'), env }))
    const [a, b] = collectors.map((c) => c.url) as [string, string]

    // One enrolment attempt (allowed), on a.
    const agent = await enrolledAgent(a, ADMIN)

    const syncs: number[] = []
    let refused: Awaited<ReturnType<typeof sync>> | undefined
    for (let i = 0; i < 3 * SYNC_MAX; i++) {
      const r = await sync(i % 2 === 0 ? a : b, agent.token, syncBody(agent.agentId, []))
      syncs.push(r.status)
      refused ??= r.status === 429 ? r : undefined
    }
    // Each collector alone would have let 5 of its 8 or 7 through (10 in all); together, 5.
    expect(syncs).toEqual([...Array<number>(SYNC_MAX).fill(200), ...Array<number>(2 * SYNC_MAX).fill(429)])
    expect(refused?.body).toMatchObject({ code: 'TOCDO_ERR_RATE_LIMITED', message: expect.stringMatching(/^more than 5 requests per agent in 600 s; retry after \d+ s$/) })
    const retryAfter = Number(refused?.headers['retry-after'])
    expect(retryAfter).toBeGreaterThan(500)
    expect(retryAfter).toBeLessThanOrEqual(600)
    expect((refused?.body as { message?: string } | undefined)?.message).toContain(`retry after ${retryAfter} s`)

    const enrolments: number[] = []
    let enrolRefused: Awaited<ReturnType<typeof enrol>> | undefined
    for (let i = 0; i < 8; i++) {
      const r = await enrol(i % 2 === 0 ? b : a, 'AAAAAAAAAAAAAAAA')
      enrolments.push(r.status)
      enrolRefused ??= r.status === 429 ? r : undefined
    }
    // The agent's enrolment on a used one of the four: three wrong codes answered, then 429s.
    expect(enrolments).toEqual([400, 400, 400, 429, 429, 429, 429, 429])
    expect(enrolRefused?.body).toMatchObject({ code: 'TOCDO_ERR_RATE_LIMITED', message: expect.stringMatching(/^more than 4 enrolment attempts per address in 60 s; retry after \d+ s$/) })
    expect(Number(enrolRefused?.headers['retry-after'])).toBeGreaterThan(0)
    expect(Number(enrolRefused?.headers['retry-after'])).toBeLessThanOrEqual(60)

    // The shared state is one row per limit and key.
    const rows = await db.rows('rate_limit')
    expect(rows.map((r) => [r.name, r.key, (r.hits as unknown[]).length])).toEqual([['enrol', '127.0.0.1', ENROL_MAX], ['sync', agent.agentId, SYNC_MAX]])
  }, 180_000)
})
