import Database from 'better-sqlite3'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { spawnCollector, type CollectorProcess } from '../helpers/collector-process.js'
import { enrolledAgent } from '../helpers/fleet-client.js'
import { FAST_AGENT_ENV, runAgent, spawnAgent } from '../helpers/agent-process.js'

/**
 * T6 with real processes: the agent runs under a test-only preload that shifts its wall
 * clock (a day back, a year forward, and a step mid-run). Results are still accepted, the
 * collector's corrected time is right (the agent's offset estimate from the sync), and the
 * sync loop neither stalls nor bursts.
 */
const ADMIN = 'fault-admin-token-0123456789'
const DAY = 86_400_000

describe('agent with a wrong or stepping clock', () => {
  const collectorDir = mkdtempSync(join(tmpdir(), 'tocdo-clk-c-'))
  const dirs: string[] = []
  let c: CollectorProcess | undefined
  afterAll(async () => {
    c?.proc.kill('SIGTERM')
    await c?.exited
    for (const d of [collectorDir, ...dirs]) rmSync(d, { recursive: true, force: true })
  })

  it('results from a clock a day slow and a year fast are accepted and corrected to the right time', async () => {
    c = await spawnCollector({ dataDir: collectorDir, env: { TOCDO_ADMIN_TOKEN: ADMIN, TOCDO_SYNC_RATE_LIMIT_MAX: '100000', TOCDO_NEXT_SYNC_S: '10' } })
    const { agentId, token } = await enrolledAgent(c.url, ADMIN)
    for (const shift of [-DAY, 365 * DAY]) {
      const dir = mkdtempSync(join(tmpdir(), 'tocdo-clk-a-'))
      dirs.push(dir)
      const r = await runAgent(['run', '--once', '--data-dir', dir, '--collector', c.url, '--token', token, '--agent-id', agentId, '--server', c.url, '--max-seconds', '2', '--pings', '5'], { env: FAST_AGENT_ENV, clockShiftMs: shift })
      expect(r.code, r.output).toBe(0)
      const db = new Database(join(collectorDir, 'collector.sqlite'), { readonly: true })
      const row = db.prepare('SELECT measured_at AS m, measured_at_corr AS corr, received_at AS recv, raw FROM result WHERE agent_id = ? ORDER BY received_at DESC LIMIT 1').get(agentId) as { m: number, corr: number, recv: number }
      db.close()
      expect(Math.abs(row.m - (row.recv + shift))).toBeLessThan(60_000)
      expect(row.corr).toBeLessThanOrEqual(row.recv + 2000)
      expect(row.recv - row.corr).toBeLessThan(30_000)
    }
  })

  it('a step of a day back mid-run: the sync loop keeps its pace and the offset estimate follows at once', async () => {
    if (c === undefined) throw new Error('collector not started')
    const { agentId, token } = await enrolledAgent(c.url, ADMIN, 'pc-02')
    const dir = mkdtempSync(join(tmpdir(), 'tocdo-clk-b-'))
    dirs.push(dir)
    const shiftFile = join(dir, '..', `${agentId}.shift`)
    writeFileSync(shiftFile, '0')
    dirs.push(shiftFile)
    const a = spawnAgent(['run', '--data-dir', dir, '--collector', c.url, '--token', token, '--agent-id', agentId, '--server', c.url], { env: FAST_AGENT_ENV, clockShiftFile: shiftFile })
    const synced = (): Array<Record<string, unknown>> => a.logs().filter((l) => l.msg === 'synced')
    await a.waitForLog((l) => l.msg === 'synced')
    writeFileSync(shiftFile, String(-DAY))
    a.proc.kill('SIGUSR2')
    const after = await a.waitForLog((l) => l.msg === 'synced' && (l.clock as { offsetMs: number }).offsetMs > DAY / 2, 20_000)
    expect(Math.abs((after.clock as { offsetMs: number }).offsetMs - DAY)).toBeLessThan(2000)
    a.proc.kill('SIGTERM')
    expect(await a.exited).toBe(0)
    expect(synced().length).toBeLessThanOrEqual(3)
  })
})
