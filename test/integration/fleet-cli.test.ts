import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createHash } from 'node:crypto'
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnCollector, type CollectorProcess } from '../helpers/collector-process.js'
import { enrol, sync, syncBody, validConfig } from '../helpers/fleet-client.js'
import { latencyRecord } from '../fixtures/records.js'

const run = promisify(execFile)

// A bound, not a speed: these tests start up to nine CLI processes, each compiling its
// TypeScript at start (tsx); on a machine busy with other work one start can take 15 s.
const CLI_TEST_TIMEOUT_MS = 300_000

/**
 * The admin CLI end to end: a real collector process (admin token generated at first start
 * and printed once), and `tocdo-collector agency|agent|config …` talking to it over HTTP.
 */
describe('admin CLI against a running collector', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tocdo-cli-'))
  let c: CollectorProcess
  let token: string

  const cli = async (args: string[], env: Record<string, string> = {}): Promise<{ stdout: string, stderr: string, code: number }> => {
    try {
      const r = await run(process.execPath, ['--import', 'tsx', 'collector/cli.ts', ...args], { env: { ...process.env, TOCDO_URL: c.url, ...env } })
      return { ...r, code: 0 }
    } catch (err) {
      const e = err as { stdout: string, stderr: string, code: number }
      return { stdout: e.stdout, stderr: e.stderr, code: e.code }
    }
  }

  beforeAll(async () => {
    c = await spawnCollector({ dataDir, env: { TOCDO_ADMIN_TOKEN: '' } })
    const m = /admin token \(shown once[^)]*\): (\S+)/.exec(c.stdout())
    expect(m).not.toBeNull()
    token = m?.[1] as string
  })
  afterAll(async () => {
    c?.proc.kill('SIGTERM')
    await c?.exited
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('prints the generated token once, never in a log line, and keeps only its hash', async () => {
    const logLines = c.stdout().split('\n').filter((l) => l.startsWith('{'))
    expect(logLines.some((l) => l.includes(token))).toBe(false)
    const db = new Database(join(dataDir, 'collector.sqlite'), { readonly: true })
    const stored = db.prepare('SELECT token_hash FROM admin_token').pluck().all() as Buffer[]
    db.close()
    expect(stored).toEqual([createHash('sha256').update(token).digest()])
    // A configured token is never generated nor printed.
    const otherDir = mkdtempSync(join(tmpdir(), 'tocdo-cli2-'))
    const again = await spawnCollector({ dataDir: otherDir, env: { TOCDO_ADMIN_TOKEN: 'configured-token-0123456789' } })
    expect(again.stdout()).not.toContain('admin token (shown once')
    again.proc.kill('SIGTERM')
    await again.exited
    rmSync(otherDir, { recursive: true, force: true })
  })

  it('agency add → enrol → sync → agent list → revoke → decommission → config set', async () => {
    const add = await cli(['agency', 'add', '--name', 'UBND xã Ngọc Hồi (cli)', '--commune', '23281', '--scheme', '2025-03',
      '--connection-class', 'fixed', '--isp', 'Viettel', '--plan-down', '300', '--plan-up', '300', '--admin-token', token])
    expect(add.code, add.stderr).toBe(0)
    const code = /enrolment code: ([A-Z2-7]{16})/.exec(add.stdout)?.[1] as string
    expect(code, `stdout: ${add.stdout}\nstderr: ${add.stderr}`).toBeDefined()

    const list = await cli(['agency', 'list', '--json'], { TOCDO_ADMIN_TOKEN: token })
    const agencies = JSON.parse(list.stdout) as Array<{ id: string, name: string }>
    const agencyId = agencies.find((a) => a.name === 'UBND xã Ngọc Hồi (cli)')?.id as string
    expect(agencyId).toBeDefined()

    const a = (await enrol(c.url, code, 'cli-pc')).body
    expect((await sync(c.url, a.token, syncBody(a.agentId, [latencyRecord()]))).status).toBe(200)

    const agents = await cli(['agent', 'list'], { TOCDO_ADMIN_TOKEN: token })
    expect(agents.stdout).toMatch(new RegExp(`${a.agentId}.*cli-pc\\s+active\\s+online`))

    const code2 = await cli(['agency', 'code', agencyId], { TOCDO_ADMIN_TOKEN: token })
    expect(code2.stdout).toMatch(/enrolment code: [A-Z2-7]{16}/)

    expect((await cli(['agent', 'revoke', a.agentId], { TOCDO_ADMIN_TOKEN: token })).stdout).toContain('revoked')
    expect((await sync(c.url, a.token, syncBody(a.agentId, []))).status).toBe(403)
    expect((await cli(['agent', 'decommission', a.agentId], { TOCDO_ADMIN_TOKEN: token })).stdout).toContain('decommissioned')
    expect((await sync(c.url, a.token, syncBody(a.agentId, []))).status).toBe(410)

    const file = join(dataDir, 'config.json')
    writeFileSync(file, JSON.stringify(validConfig()))
    const set = await cli(['config', 'set', file], { TOCDO_ADMIN_TOKEN: token })
    expect(set.stdout).toContain('configuration version 2 is in force')
    writeFileSync(file, JSON.stringify(validConfig({ maxSecondsPerDirection: 600 })))
    const bad = await cli(['config', 'set', file], { TOCDO_ADMIN_TOKEN: token })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('/maxSecondsPerDirection')
    expect(JSON.parse((await cli(['config', 'show'], { TOCDO_ADMIN_TOKEN: token })).stdout).version).toBe(2)
  }, CLI_TEST_TIMEOUT_MS)

  it('agency add --high-tech-zone and agency update set and clear the zone; a blank name is refused naming the field', async () => {
    const add = await cli(['agency', 'add', '--name', 'Trung tâm CNTT (khu CNC)', '--commune', '23281', '--scheme', '2025-03',
      '--connection-class', 'leased_line', '--isp', 'VNPT', '--high-tech-zone', 'Khu công nghệ cao Hòa Lạc', '--json'], { TOCDO_ADMIN_TOKEN: token })
    expect(add.code, add.stderr).toBe(0)
    const added = JSON.parse(add.stdout) as { agency: { id: string, highTechZone: string | null } }
    expect(added.agency.highTechZone).toBe('Khu công nghệ cao Hòa Lạc')
    const id = added.agency.id

    const cleared = await cli(['agency', 'update', id, '--no-high-tech-zone', '--json'], { TOCDO_ADMIN_TOKEN: token })
    expect(cleared.code, cleared.stderr).toBe(0)
    expect(JSON.parse(cleared.stdout)).toMatchObject({ id, highTechZone: null })
    const set = await cli(['agency', 'update', id, '--high-tech-zone', 'Khu CNTT tập trung Đà Nẵng'], { TOCDO_ADMIN_TOKEN: token })
    expect(set.stdout).toContain('high-tech zone: Khu CNTT tập trung Đà Nẵng')
    const list = JSON.parse((await cli(['agency', 'list', '--json'], { TOCDO_ADMIN_TOKEN: token })).stdout) as Array<{ id: string, highTechZone: string | null }>
    expect(list.find((a) => a.id === id)?.highTechZone).toBe('Khu CNTT tập trung Đà Nẵng')
    // Stored in the agency row, where reports read it.
    const db = new Database(join(dataDir, 'collector.sqlite'), { readonly: true })
    expect(db.prepare('SELECT high_tech_zone FROM agency WHERE id = ?').pluck().get(id)).toBe('Khu CNTT tập trung Đà Nẵng')
    db.close()

    const blank = await cli(['agency', 'update', id, '--high-tech-zone', '   '], { TOCDO_ADMIN_TOKEN: token })
    expect(blank.code).toBe(1)
    expect(blank.stderr).toContain('TOCDO_ERR_VALIDATION')
    expect(blank.stderr).toContain('body/highTechZone')
    const neither = await cli(['agency', 'update', id], { TOCDO_ADMIN_TOKEN: token })
    expect(neither.code).toBe(1)
    expect(neither.stderr).toContain('--high-tech-zone')
    const unknown = await cli(['agency', 'update', 'no-such-agency', '--no-high-tech-zone'], { TOCDO_ADMIN_TOKEN: token })
    expect(unknown.stderr).toContain('TOCDO_ERR_NOT_FOUND')
  }, CLI_TEST_TIMEOUT_MS)

  it('refuses a wrong or missing admin token with a clear message', async () => {
    const wrong = await cli(['agent', 'list', '--admin-token', 'nope-nope-nope-nope'])
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain('TOCDO_ERR_AUTH_INVALID')
    const missing = await cli(['agent', 'list'], { TOCDO_ADMIN_TOKEN: '' })
    expect(missing.stderr).toContain('--admin-token')
  })
})
