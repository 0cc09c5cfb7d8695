import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChildProcess } from 'node:child_process'
import { runIpv6Check } from '../../agent/measure/index.js'
import { runSpeedTest } from '../../agent/measure/speed-test.js'
import { systemClock } from '../../agent/measure/context.js'
import { startLoopbackServer, type LoopbackServer } from '../../agent/measure/loopback-server.js'
import { createLink, netnsSupport, type Link } from '../fixtures/netns.js'
import { startTempCollector } from '../helpers/temp-collector.js'
import type { ResultRecord } from '../../shared/schemas/result.js'

const check = (r: ResultRecord, name: string) => r.ipv6!.checks!.find((c) => c.name === name)

describe('IPv6 over ::1', () => {
  let v6: LoopbackServer
  let dual: LoopbackServer
  beforeAll(async () => {
    v6 = await startLoopbackServer({ host: '::1' })
    dual = await startLoopbackServer({ host: '::' })
  })
  afterAll(async () => { await v6.close(); await dual.close() })

  it('classifies a working IPv6 path and reports every item, including the forced-IPv6 download', async () => {
    const r = await runIpv6Check({ server: v6.url, clock: systemClock, forcedDownload: true, forcedDownloadMs: 3000 })
    expect(r.kind).toBe('ipv6')
    expect(r.ipv6).toMatchObject({ state: 'works', connect6: true, connect4: null, aaaa: true, mainTestFamily: 6 })
    expect(r.ipv6!.ping6MedianMs).toBeGreaterThan(0)
    expect(r.ipv6!.forcedV6Mbps).toBeGreaterThan(10)
    expect(check(r, 'dns_aaaa')).toMatchObject({ ok: true, detail: 'server URL is an IPv6 literal' })
    expect(check(r, 'connect4')).toMatchObject({ ok: null })
    expect(check(r, 'forced_v6_download')?.ok).toBe(true)
    expect(r.ipv6!.checks!.map((c) => c.name)).toEqual(['addr', 'route', 'dns_aaaa', 'dns_a', 'connect6', 'connect4', 'preferred', 'forced_v6_download'])
  })

  it('reports the family the main test used as the server saw it', async () => {
    const port = new URL(dual.url).port
    const over4 = await runSpeedTest({ server: `http://127.0.0.1:${port}`, clock: systemClock, pings: 5, maxMsPerDirection: 2500, directions: ['download'], ipv6: true })
    expect(over4.server).toMatchObject({ family: 4, clientAddress: '::ffff:127.0.0.1' })
    expect(over4.ipv6!.mainTestFamily).toBe(4)
    const over6 = await runSpeedTest({ server: `http://[::1]:${port}`, clock: systemClock, pings: 5, maxMsPerDirection: 2500, directions: ['download'], ipv6: true })
    expect(over6.server).toMatchObject({ family: 6, clientAddress: '::1' })
    expect(over6.ipv6!.mainTestFamily).toBe(6)
  })

  it('the collector test server on "::" (the --speedtest-only default) serves both families', async () => {
    const c = await startTempCollector({ host: '::', speedtestOnly: true })
    try {
      const port = new URL(c.url.replace('[::]', 'localhost')).port
      for (const [host, family] of [['127.0.0.1', 4], ['[::1]', 6]] as const) {
        const r = await runSpeedTest({ server: `http://${host}:${port}`, clock: systemClock, pings: 5, maxMsPerDirection: 2500, ipv6: true })
        expect(r.status).toBe('ok')
        expect(r.upload!.mbps).toBeGreaterThan(0)
        expect(r.ipv6!.mainTestFamily).toBe(family)
      }
    } finally {
      await c.close()
    }
  })

  it('never falls back: a test forced to IPv6 against an IPv4-only address fails and says why', async () => {
    const port = new URL(dual.url).port
    const r = await runSpeedTest({ server: `http://127.0.0.1:${port}`, clock: systemClock, family: 6, pings: 5, maxMsPerDirection: 2000 })
    expect(r.status).toBe('failed')
    expect(r.error?.code).toBe('TOCDO_ERR_SERVER_UNREACHABLE')
    expect(r.server!.skipped![0]!.reason).toMatch(/cannot be reached over forced IPv6/)
    expect(r.download).toBeNull()
  })

  it('calls IPv6 broken when the host has a global address but IPv6 connections fail', async () => {
    const closed = await startLoopbackServer({ host: '::1' })
    const url = closed.url
    await closed.close()
    const r = await runIpv6Check({
      server: url,
      clock: systemClock,
      host: { addresses: () => [{ iface: 'eth0', address: '2001:db8::5', cls: 'global' }], defaultRoute: async () => true }
    })
    expect(r.ipv6).toMatchObject({ state: 'broken', globalAddress: true, connect6: false })
    expect(r.ipv6!.failures).toContain('connect6:refused')
  })
})

describe('IPv6 in a namespace with no IPv6 at all', async () => {
  const support = await netnsSupport()
  let link: Link
  let server: ChildProcess
  const port = 18_080

  beforeAll(async () => {
    // These tests need root and iproute2 (scripts/ensure-test-deps.sh installs iproute2 before
    // `npm test`); without them they fail with the reason rather than pass by skipping.
    if (!support.ok) throw new Error(`network namespaces unavailable: ${support.reason}`)
    link = await createLink({ ipv6: false, prefix: 'tocdo-v6t' })
    const script = `import { startLoopbackServer } from './agent/measure/loopback-server.ts'; const s = await startLoopbackServer({ host: '0.0.0.0', port: ${port} }); console.log(s.url)`
    server = link.spawn(link.serverNs, process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] })
    await new Promise<void>((resolve, reject) => {
      server.stdout!.once('data', () => { resolve() })
      server.once('exit', (c) => { reject(new Error(`server exited ${c}`)) })
    })
  })
  afterAll(async () => { await link?.destroy() })

  const agent = async (url: string): Promise<ResultRecord> => {
    const { stdout } = await link.exec(link.clientNs, process.execPath, ['--import', 'tsx', 'agent/cli.ts', 'test', '--kind', 'ipv6', '--json', '--server', url], { timeoutMs: 60_000 })
    return JSON.parse(stdout) as ResultRecord
  }

  it('classifies the agent as having no IPv6, with IPv4 working and nothing silently substituted', async () => {
    const r = await agent(`http://${link.serverAddr4}:${port}`)
    expect(r.ipv6).toMatchObject({ state: 'none', globalAddress: false, connect4: true, connect6: null, mainTestFamily: 4 })
    expect(check(r, 'addr')).toMatchObject({ ok: false, detail: 'no IPv6 address at all' })
    expect(check(r, 'route')?.ok).not.toBe(true)
    expect(r.ipv6!.failures).toContain('addr:no_global_address')
  })

  it('an IPv6 literal cannot be reached and the failure is classed, not hidden', async () => {
    const r = await agent(`http://[2001:2::2]:${port}`)
    expect(r.ipv6).toMatchObject({ state: 'none', connect6: false, connect4: null })
    expect(r.ipv6!.failures.some((f) => f.startsWith('connect6:'))).toBe(true)
  })
})
