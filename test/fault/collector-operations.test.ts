import { execFile } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { spawnCollector, type CollectorProcess } from '../helpers/collector-process.js'
import { enrolledAgent, sync, syncBody } from '../helpers/fleet-client.js'
import { latencyBatch } from '../fixtures/records.js'
import { until } from '../helpers/until.js'
import type { EnrollReply } from '../../shared/schemas/fleet.js'

/**
 * Issue 11, operations under load with real processes: a backup taken while six agents sync
 * holds every result acknowledged before it started, and restores into a collector that
 * serves them; SIGTERM while they sync stops the process cleanly with every acknowledged
 * result on disk and no request failed with a 5xx.
 */
const ADMIN = 'operations-admin-token-0123456789abcdef'
const ENV = { TOCDO_ADMIN_TOKEN: ADMIN, TOCDO_SYNC_RATE_LIMIT_MAX: '1000000' }
const root = mkdtempSync(join(tmpdir(), 'tocdo-ops-'))
afterAll(() => { rmSync(root, { recursive: true, force: true }) })

const run = promisify(execFile)
async function cli (args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'collector/cli.ts', ...args], { env: { ...process.env, ...ENV } })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

/** Six agents syncing 50 results at a time until stopped; what each acknowledged, and every status seen. */
function load (c: CollectorProcess, agents: EnrollReply[]): { acked: Set<string>, statuses: number[], errors: () => number, stop: () => Promise<void> } {
  const acked = new Set<string>()
  const statuses: number[] = []
  let errors = 0
  const state = { stopped: false }
  const loops = agents.map(async (a) => {
    while (!state.stopped) {
      try {
        const r = await sync(c.url, a.token, syncBody(a.agentId, latencyBatch(50)))
        statuses.push(r.status)
        if (r.status === 200) for (const item of r.body.acks.items) if (item.status === 'accepted') acked.add(item.id as string)
        if (r.status === 503) return // closing: the collector refuses new requests
      } catch { errors++; return } // the listener is gone
    }
  })
  return { acked, statuses, errors: () => errors, stop: async () => { state.stopped = true; await Promise.all(loops) } }
}

const storedIds = (file: string): Set<string> => {
  const db = new Database(file, { readonly: true })
  try { return new Set(db.prepare('SELECT result_id FROM result').pluck().all() as string[]) } finally { db.close() }
}

describe('collector operations under load (real processes)', () => {
  it('backup while ingesting, verify, restore: every result acknowledged before the backup is there', async () => {
    const dataDir = join(root, 'live')
    const c = await spawnCollector({ dataDir, env: ENV })
    try {
      const agents: EnrollReply[] = []
      for (let i = 0; i < 6; i++) agents.push(await enrolledAgent(c.url, ADMIN, `ops-${i}`))
      const l = load(c, agents)
      await until(() => l.acked.size >= 1500, { what: '1,500 acknowledged results' })
      const before = new Set(l.acked)
      const backupFile = join(root, 'backup.sqlite')
      const b = await cli(['backup', backupFile, '--data-dir', dataDir])
      const during = l.acked.size
      await l.stop()
      expect(b.code, b.stderr).toBe(0)
      expect(b.stdout).toMatch(/integrity ok/)
      expect(during).toBeGreaterThan(before.size) // ingest went on while the backup ran
      expect(l.statuses.every((s) => s === 200)).toBe(true)

      const v = await cli(['verify', backupFile, '--json'])
      expect(v.code, v.stderr).toBe(0)
      const report = JSON.parse(v.stdout) as { ok: boolean, counts: { results: number } }
      expect(report.ok).toBe(true)
      expect(report.counts.results).toBeGreaterThanOrEqual(before.size)

      // Restore: the backup becomes the database of a new collector, which starts and serves it.
      const restoredDir = join(root, 'restored')
      mkdirSync(restoredDir)
      copyFileSync(backupFile, join(restoredDir, 'collector.sqlite'))
      const r = await spawnCollector({ dataDir: restoredDir, env: ENV })
      try {
        const again = await sync(r.url, agents[0]!.token, syncBody(agents[0]!.agentId, latencyBatch(1)))
        expect(again.status).toBe(200) // the agents' tokens are in the backup too
      } finally { r.proc.kill('SIGTERM'); await r.exited }
      const restored = storedIds(join(restoredDir, 'collector.sqlite'))
      const missing = [...before].filter((id) => !restored.has(id))
      expect(missing).toEqual([])
      // A damaged file fails verification.
      const broken = join(root, 'broken.sqlite')
      copyFileSync(backupFile, broken)
      const fd = await import('node:fs/promises').then(async (fs) => await fs.open(broken, 'r+'))
      await fd.write(Buffer.alloc(4096, 0x55), 0, 4096, 8192)
      await fd.close()
      expect((await cli(['verify', broken])).code).toBe(1)
    } finally {
      c.proc.kill('SIGTERM')
      await c.exited
    }
  })

  it('SIGTERM under load: exits 0, every acknowledged result is on disk, no 5xx', async () => {
    const dataDir = join(root, 'term')
    const c = await spawnCollector({ dataDir, env: ENV })
    const agents: EnrollReply[] = []
    for (let i = 0; i < 6; i++) agents.push(await enrolledAgent(c.url, ADMIN, `term-${i}`))
    const l = load(c, agents)
    await until(() => l.acked.size >= 1000, { what: '1,000 acknowledged results' })
    c.proc.kill('SIGTERM')
    expect(await c.exited).toBe(0)
    await l.stop()
    expect(l.statuses.filter((s) => s >= 500 && s !== 503)).toEqual([])
    const stored = storedIds(join(dataDir, 'collector.sqlite'))
    expect([...l.acked].filter((id) => !stored.has(id))).toEqual([])
    const db = new Database(join(dataDir, 'collector.sqlite'), { readonly: true })
    expect(db.prepare('PRAGMA integrity_check').pluck().get()).toBe('ok')
    db.close()
  })
})
