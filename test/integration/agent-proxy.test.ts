import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { bypassesProxy, collectorRoute, parseNetshWinhttp, parseRegQuery, proxyFor, resolveProxy } from '../../agent/delivery/proxy.js'
import { postSync } from '../../agent/delivery/fleet-client.js'
import type { CommandRunner } from '../../agent/platform/command.js'
import { startConnectProxy, type ConnectProxy } from '../helpers/connect-proxy.js'
import { startTempCollector, type TempCollector } from '../helpers/temp-collector.js'
import { addAgency, enrolledAgent, syncBody } from '../helpers/fleet-client.js'

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/windows/${name}`, import.meta.url), 'utf8')

/** Answers each command with a recorded output, as Windows would print it. */
function recorded (outputs: Record<string, string | null>): { run: CommandRunner, calls: string[] } {
  const calls: string[] = []
  const run: CommandRunner = async (file, args) => {
    const line = [file, ...args].join(' ')
    calls.push(line)
    const key = Object.keys(outputs).find((k) => line.includes(k))
    const out = key === undefined ? null : outputs[key] ?? null
    return out === null ? { code: 1, stdout: '', stderr: 'ERROR: The system was unable to find the specified registry key or value.', error: 'exit 1' } : { code: 0, stdout: out, stderr: '' }
  }
  return { run, calls }
}

describe('proxy settings', () => {
  it('parseNetshWinhttp() reads the proxy and bypass list by layout, in English and Vietnamese', () => {
    expect(parseNetshWinhttp(fixture('netsh-winhttp-direct.en.txt'))).toBeNull()
    expect(parseNetshWinhttp(fixture('netsh-winhttp-proxy.en.txt'))).toEqual({ server: 'proxy.sotttt.gov.vn:3128', bypass: '<local>;*.gov.vn;10.*' })
    expect(parseNetshWinhttp(fixture('netsh-winhttp-per-scheme.en.txt'))).toEqual({ server: 'http=10.1.1.1:8080;https=10.1.1.1:8443', bypass: '' })
    expect(parseNetshWinhttp(fixture('netsh-winhttp-proxy.vi.txt'))).toEqual({ server: 'proxy.sotttt.gov.vn:3128', bypass: '<local>;*.gov.vn' })
  })

  it('parseRegQuery() reads Internet Settings values', () => {
    expect(parseRegQuery(fixture('reg-internet-settings.txt'))).toMatchObject({ ProxyEnable: '0x1', ProxyServer: '10.20.30.40:8080', ProxyOverride: '<local>;192.168.*;*.tinh.gov.vn' })
  })

  it('bypassesProxy() follows NO_PROXY and Windows bypass-list forms', () => {
    const u = (s: string): URL => new URL(s)
    expect(bypassesProxy(u('https://tocdo.tinh.gov.vn'), '.gov.vn')).toBe(true)
    expect(bypassesProxy(u('https://tocdo.tinh.gov.vn'), '*.tinh.gov.vn')).toBe(true)
    expect(bypassesProxy(u('https://gov.vn.example.com'), '.gov.vn')).toBe(false)
    expect(bypassesProxy(u('http://192.168.1.5:8080'), '192.168.*')).toBe(true)
    expect(bypassesProxy(u('http://127.0.0.1:8080'), '127.0.0.1:9090')).toBe(false)
    expect(bypassesProxy(u('http://127.0.0.1:8080'), 'example.com, 127.0.0.1:8080')).toBe(true)
    expect(bypassesProxy(u('http://[::1]:8080'), '::1')).toBe(true)
    expect(bypassesProxy(u('http://collector/'), '<local>')).toBe(true)
    expect(bypassesProxy(u('http://collector.vn/'), '<local>')).toBe(false)
    expect(bypassesProxy(u('https://anything.vn'), '*')).toBe(true)
  })

  it('resolveProxy(): setting, then environment, then the Windows machine proxy', async () => {
    const env = { HTTPS_PROXY: 'http://env-proxy:3128', NO_PROXY: 'localhost' }
    expect(await resolveProxy({ proxy: 'http://set:8080', noProxy: null, env })).toMatchObject({ https: 'http://set:8080', noProxy: 'localhost', source: 'agent setting "proxy"' })
    expect(await resolveProxy({ proxy: 'direct', noProxy: null, env })).toMatchObject({ https: null, http: null })
    expect(await resolveProxy({ proxy: null, noProxy: null, env: { https_proxy: 'env-proxy:3128' } })).toMatchObject({ https: 'http://env-proxy:3128', http: null })

    const winhttp = recorded({ 'netsh winhttp': fixture('netsh-winhttp-per-scheme.en.txt') })
    const fromNetsh = await resolveProxy({ proxy: null, noProxy: null, env: {}, platform: 'win32', run: winhttp.run })
    expect(fromNetsh).toMatchObject({ http: 'http://10.1.1.1:8080', https: 'http://10.1.1.1:8443', noProxy: '', source: expect.stringMatching(/WinHTTP/) })
    expect(winhttp.calls[0]).toMatch(/^cmd\.exe .*chcp 65001 .*netsh winhttp show proxy/)

    const reg = recorded({ 'netsh winhttp': fixture('netsh-winhttp-direct.en.txt'), 'HKLM\\SOFTWARE\\Microsoft': fixture('reg-internet-settings.txt') })
    const fromReg = await resolveProxy({ proxy: null, noProxy: null, env: {}, platform: 'win32', run: reg.run })
    expect(fromReg).toMatchObject({ https: 'http://10.20.30.40:8080', noProxy: '<local>;192.168.*;*.tinh.gov.vn', source: expect.stringMatching(/Internet Settings/) })
    expect(proxyFor('https://tocdo.tinh.gov.vn', fromReg)).toBeNull()
    expect(proxyFor('https://tocdo.vnpt.vn', fromReg)).toBe('http://10.20.30.40:8080')

    const pac = recorded({ 'netsh winhttp': fixture('netsh-winhttp-direct.en.txt'), HKCU: fixture('reg-internet-settings-pac.txt') })
    const withPac = await resolveProxy({ proxy: null, noProxy: null, env: {}, platform: 'win32', run: pac.run })
    expect(withPac.https).toBeNull()
    expect(withPac.note).toMatch(/proxy\.pac.*not evaluated/)
    // Linux never runs Windows commands.
    const none = recorded({})
    expect((await resolveProxy({ proxy: null, noProxy: null, env: {}, platform: 'linux', run: none.run })).source).toBe('none')
    expect(none.calls).toEqual([])
  })
})

describe('collector calls through a real CONNECT proxy', () => {
  let c: TempCollector
  let proxy: ConnectProxy
  let authProxy: ConnectProxy
  const adminToken = 'proxy-test-admin-token-0123456789'
  const dataDir = mkdtempSync(join(tmpdir(), 'tocdo-proxy-agent-'))
  beforeAll(async () => {
    c = await startTempCollector({ adminToken })
    proxy = await startConnectProxy()
    authProxy = await startConnectProxy({ requireAuth: `Basic ${Buffer.from('canbo:mat-khau').toString('base64')}` })
  })
  afterAll(async () => {
    await proxy.close()
    await authProxy.close()
    await c.close()
    rmSync(dataDir, { recursive: true, force: true })
  })
  const target = (): string => new URL(c.url).host

  it('sync goes through HTTPS_PROXY/HTTP_PROXY, and NO_PROXY or "direct" bypasses it', async () => {
    const agent = await enrolledAgent(c.url, adminToken)
    const settings = { proxy: null, noProxy: null, caFile: null }
    const via = await collectorRoute(c.url, settings, { env: { HTTP_PROXY: proxy.url }, platform: 'linux' })
    expect(via.proxy).toBe(proxy.url)
    const r1 = await postSync(c.url, agent.token, syncBody(agent.agentId, []), undefined, via.dispatcher)
    expect(r1.status).toBe(200)
    expect(proxy.connects).toEqual([target()])

    const bypass = await collectorRoute(c.url, settings, { env: { HTTP_PROXY: proxy.url, NO_PROXY: 'example.com,127.0.0.1' }, platform: 'linux' })
    expect(bypass.proxy).toBeNull()
    expect((await postSync(c.url, agent.token, syncBody(agent.agentId, []), undefined, bypass.dispatcher)).status).toBe(200)
    const direct = await collectorRoute(c.url, { ...settings, proxy: 'direct' }, { env: { HTTP_PROXY: proxy.url }, platform: 'linux' })
    expect((await postSync(c.url, agent.token, syncBody(agent.agentId, []), undefined, direct.dispatcher)).status).toBe(200)
    expect(proxy.connects).toEqual([target()])

    // The setting wins over the environment; credentials in its URL reach the proxy.
    const authed = authProxy.url.replace('http://', 'http://canbo:mat-khau@')
    const set = await collectorRoute(c.url, { ...settings, proxy: authed }, { env: { HTTP_PROXY: proxy.url }, platform: 'linux' })
    expect((await postSync(c.url, agent.token, syncBody(agent.agentId, []), undefined, set.dispatcher)).status).toBe(200)
    expect(authProxy.connects).toEqual([target()])
    expect(proxy.connects).toHaveLength(1)
  })

  it('tocdo-agent enroll reaches the collector through the proxy and says so', async () => {
    const { enrolment } = await addAgency(c.url, adminToken)
    const before = proxy.connects.length
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'agent/cli.ts', 'enroll', '--collector', c.url, '--code', enrolment.code, '--data-dir', dataDir, '--no-calibrate'], {
      env: { ...process.env, HTTP_PROXY: proxy.url, HTTPS_PROXY: '', NO_PROXY: '' }
    })
    expect(stdout).toMatch(/enrolled: agent /)
    expect(stdout).toContain(`through proxy ${proxy.url}`)
    expect(proxy.connects.slice(before)).toEqual([target()])
  })

  it('a dead proxy gives a clear error naming the proxy', async () => {
    const { enrolment } = await addAgency(c.url, adminToken)
    const dead = await startConnectProxy()
    await dead.close()
    const err = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'agent/cli.ts', 'enroll', '--collector', c.url, '--code', enrolment.code, '--data-dir', mkdtempSync(join(tmpdir(), 'tocdo-proxy-dead-')), '--no-calibrate'], {
      env: { ...process.env, TOCDO_AGENT_PROXY: dead.url }
    }).then(() => null, (e: { stderr: string, code: number }) => e)
    expect(err?.code).toBe(1)
    expect(err?.stderr).toContain(`cannot reach ${c.url} (through proxy ${dead.url}`)
  })
})
