import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { CommandRunner } from '../../agent/platform/command.js'
import { locateDataDir, serviceState } from '../../agent/service/locate.js'
import type { StatusReport } from '../../agent/service/report.js'
import { TOCDO_VERSION } from '../../shared/version.js'
import { startConnectProxy, type ConnectProxy } from '../helpers/connect-proxy.js'
import { startTempCollector, type TempCollector } from '../helpers/temp-collector.js'
import { addAgency } from '../helpers/fleet-client.js'

function answers (table: Record<string, { code: number | null, stdout?: string, stderr?: string }>): CommandRunner {
  return async (file, args) => {
    const line = [file, ...args].join(' ')
    const key = Object.keys(table).find((k) => line.includes(k))
    if (key === undefined) return { code: null, stdout: '', stderr: '', error: `spawn ${file} ENOENT` }
    const a = table[key] as { code: number | null, stdout?: string, stderr?: string }
    return { code: a.code, stdout: a.stdout ?? '', stderr: a.stderr ?? '' }
  }
}

describe('finding the installed agent', () => {
  it('locateDataDir(): --data-dir, TOCDO_AGENT_DATA_DIR, the packaged location when present, then the default', () => {
    expect(locateDataDir({ flag: '/x', env: { TOCDO_AGENT_DATA_DIR: '/y' } })).toEqual({ dir: '/x', how: '--data-dir' })
    expect(locateDataDir({ env: { TOCDO_AGENT_DATA_DIR: '/y' } })).toEqual({ dir: '/y', how: 'TOCDO_AGENT_DATA_DIR' })
    expect(locateDataDir({ env: {}, platform: 'linux', exists: (p) => p === '/var/lib/tocdo-agent' })).toEqual({ dir: '/var/lib/tocdo-agent', how: 'installed package' })
    expect(locateDataDir({ env: { ProgramData: 'D:\\ProgramData' }, platform: 'win32', exists: (p) => p === 'D:\\ProgramData\\tocdo' }).dir).toBe('D:\\ProgramData\\tocdo')
    expect(locateDataDir({ env: {}, platform: 'linux', exists: () => false }).dir).toBe('./data/agent')
  })

  it('serviceState() reads systemctl and the Windows scheduled task, and says unknown when it cannot tell', async () => {
    expect(await serviceState(answers({ 'is-active': { code: 0, stdout: 'active\n' } }), 'linux')).toMatchObject({ state: 'running' })
    expect(await serviceState(answers({ 'is-active': { code: 3, stdout: 'failed\n' } }), 'linux')).toMatchObject({ state: 'failed' })
    expect(await serviceState(answers({ 'is-active': { code: 3, stdout: 'inactive\n' }, 'is-enabled': { code: 0, stdout: 'enabled\n' } }), 'linux')).toMatchObject({ state: 'stopped' })
    expect(await serviceState(answers({ 'is-active': { code: 3, stdout: 'inactive\n' }, 'is-enabled': { code: 1, stderr: 'Failed to get unit file state for tocdo-agent.service: No such file or directory' } }), 'linux')).toMatchObject({ state: 'not installed' })
    expect(await serviceState(answers({}), 'linux')).toMatchObject({ state: 'unknown', detail: expect.stringMatching(/ENOENT/) })

    expect(await serviceState(answers({ 'Get-ScheduledTask': { code: 0, stdout: 'Running\r\n' } }), 'win32')).toMatchObject({ state: 'running' })
    expect(await serviceState(answers({ 'Get-ScheduledTask': { code: 0, stdout: 'Ready\r\n' } }), 'win32')).toMatchObject({ state: 'stopped' })
    expect(await serviceState(answers({ 'Get-ScheduledTask': { code: 1, stderr: 'Get-ScheduledTask : No MSFT_ScheduledTask objects found with property \'TaskName\' equal to \'tocdo-agent\'.' } }), 'win32')).toMatchObject({ state: 'not installed' })
    // PowerShell blocked: schtasks' status column is translated, so only English "Running" counts.
    expect(await serviceState(answers({ schtasks: { code: 0, stdout: '"\\tocdo-agent","N/A","Running"\r\n' } }), 'win32')).toMatchObject({ state: 'running' })
    expect(await serviceState(answers({ schtasks: { code: 0, stdout: '"\\tocdo-agent","N/A","Đang chạy"\r\n' } }), 'win32')).toMatchObject({ state: 'unknown' })
  })
})

describe('tocdo-agent status and doctor against a real data dir', () => {
  let c: TempCollector
  let proxy: ConnectProxy
  const dataDir = mkdtempSync(join(tmpdir(), 'tocdo-status-'))
  const adminToken = 'status-test-admin-token-0123456789'
  const cli = async (args: string[], env: Record<string, string> = {}): Promise<{ stdout: string, stderr: string, code: number }> => {
    try {
      const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'agent/cli.ts', ...args], { env: { ...process.env, TOCDO_AGENT_DATA_DIR: dataDir, HTTP_PROXY: proxy.url, HTTPS_PROXY: '', NO_PROXY: '', ...env }, timeout: 120_000 })
      return { ...r, code: 0 }
    } catch (err) {
      const e = err as { stdout: string, stderr: string, code: number }
      return { stdout: e.stdout, stderr: e.stderr, code: e.code }
    }
  }
  beforeAll(async () => {
    c = await startTempCollector({ adminToken })
    proxy = await startConnectProxy()
  })
  afterAll(async () => {
    await proxy.close()
    await c.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('before enrolment: not enrolled, and doctor fails', async () => {
    const r = await cli(['status'])
    expect(r.stdout).toMatch(new RegExp(`^tocdo agent ${TOCDO_VERSION.replace(/\./g, '\\.')}: NOT ENROLLED`))
    expect(r.stdout).toContain(`data dir     ${dataDir} (found by TOCDO_AGENT_DATA_DIR)`)
    const d = await cli(['doctor'])
    expect(d.code).toBe(1)
    expect(d.stdout).toMatch(/\[FAIL\] enrolment {4}not enrolled/)
  })

  it('after enrol and one test: version, last test, queue, last sync, proxy and service state', async () => {
    const { enrolment } = await addAgency(c.url, adminToken)
    expect((await cli(['enroll', '--collector', c.url, '--code', enrolment.code, '--no-calibrate'])).code).toBe(0)
    const once = await cli(['run', '--once', '--server', c.url, '--max-seconds', '2', '--pings', '5', '--log-level', 'warn'])
    expect(once.stdout).toMatch(/delivery: ok/)
    const r = await cli(['status', '--json'])
    const s = JSON.parse(r.stdout) as StatusReport
    expect(s).toMatchObject({ version: TOCDO_VERSION, enrolled: true, collector: c.url, dataDir, dataDirFoundBy: 'TOCDO_AGENT_DATA_DIR', queue: { pending: 0, dead: 0 }, lastSyncError: null })
    expect(s.lastTest, JSON.stringify(s.lastTest)).toMatchObject({ kind: 'speed', status: expect.stringMatching(/^(ok|partial)$/) })
    expect(s.lastTest?.downMbps).toBeGreaterThan(0)
    expect(Date.parse(s.lastSyncAt ?? '')).toBeGreaterThan(Date.now() - 120_000)
    expect(s.proxy).toMatchObject({ proxy: proxy.url, recordedByService: true })
    expect(s.nextSlots.length).toBeGreaterThan(0)
    // No systemd as PID 1 here: the state is reported as unknown, never guessed.
    expect(['unknown', 'not installed', 'stopped']).toContain(s.service.state)
    const text = await cli(['status'])
    expect(text.stdout).toMatch(/enrolled as [0-9a-f-]{36}/)
    expect(text.stdout).toMatch(/last test {4}\S+ speed (ok|partial), [\d.]+\/[\d.]+ Mbps down\/up/)
    expect(text.stdout).toContain(`proxy        ${proxy.url} (environment (HTTP_PROXY), as the service uses it)`)
  })

  it('doctor reaches the collector through the proxy, then reports it unreachable', async () => {
    const before = proxy.connects.length
    const ok = await cli(['doctor'])
    expect(ok.stdout).toMatch(new RegExp(`\\[ok\\] {3}collector {4}${c.url.replace(/[.]/g, '\\.')} answered 200 in \\d+ ms, through ${proxy.url}`))
    expect(ok.stdout).toMatch(/\[ok\] {3}outbox {7}0 waiting, 0 dead letters/)
    expect(ok.stdout).toMatch(/\[ok\] {3}counters {5}proc-net-dev/)
    expect(proxy.connects.length).toBe(before + 1)
    const down = await cli(['doctor'], { HTTP_PROXY: 'http://127.0.0.1:9' })
    expect(down.code).toBe(1)
    expect(down.stdout).toMatch(/\[FAIL\] collector {4}\S+ not reachable through http:\/\/127\.0\.0\.1:9/)
  })
})
