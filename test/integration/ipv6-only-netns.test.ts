import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ResultRecord } from '../../shared/schemas/result.js'
import { killTree } from '../fixtures/netns.js'
import { REPO_ROOT, waitFor } from '../helpers/netns-speedtest.js'

/**
 * `tocdo-agent test --kind ipv6_only`, a real agent process, in a network namespace with no
 * IPv4 at all (only lo, with ::1). Its resolver is our DNS server on [::1]:53 (ip netns exec
 * puts /etc/netns/<ns>/resolv.conf in place of /etc/resolv.conf), playing a DNS64 or a plain
 * resolver, and the national e-services are HTTP servers of ours on ::1.
 */
const run = promisify(execFile)
const NS = `tocdo-v6only-${process.pid}`
const NS_ETC = join('/etc/netns', NS)
const PORT = 8080
let dataDir: string
const children: ChildProcess[] = []

async function world (mode: 'nat64' | 'plain'): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', NS, process.execPath, '--import', 'tsx', 'test/helpers/ipv6-only-world.ts', mode, '53', String(PORT)], { cwd: REPO_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  await waitFor(child, /ready/)
  return child
}

async function agentTest (services: string[]): Promise<ResultRecord> {
  const { stdout } = await run('ip', ['netns', 'exec', NS, 'env', `TOCDO_AGENT_IPV6_ONLY_SERVICES=${services.join(',')}`, `TOCDO_AGENT_DATA_DIR=${dataDir}`,
    process.execPath, '--import', 'tsx', 'agent/cli.ts', 'test', '--kind', 'ipv6_only', '--server', `http://speed.test:${PORT}`, '--json'], { cwd: REPO_ROOT, timeout: 60_000 })
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as ResultRecord
}

async function stop (child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => { if (child.exitCode !== null || child.signalCode !== null) resolve(); else child.once('exit', () => resolve()) })
  killTree(child)
  await exited
}

beforeAll(async () => {
  // Root is required and present on the test machines: a failure here fails the file, never skips it.
  await run('ip', ['netns', 'add', NS])
  await run('ip', ['-n', NS, 'link', 'set', 'lo', 'up'])
  await run('ip', ['-n', NS, 'addr', 'del', '127.0.0.1/8', 'dev', 'lo'])
  mkdirSync(NS_ETC, { recursive: true })
  writeFileSync(join(NS_ETC, 'resolv.conf'), 'nameserver ::1\noptions timeout:2 attempts:1\n')
  dataDir = mkdtempSync(join(tmpdir(), 'tocdo-v6only-'))
})

afterAll(async () => {
  for (const c of children) await stop(c)
  await run('ip', ['netns', 'del', NS]).catch(() => {})
  rmSync(NS_ETC, { recursive: true, force: true })
  rmSync(dataDir, { recursive: true, force: true })
})

describe('IPv6-only readiness in a namespace without IPv4', () => {
  it('the namespace has no IPv4 address at all, only ::1', async () => {
    const v4 = await run('ip', ['-n', NS, '-4', 'addr', 'show'])
    expect(v4.stdout.trim()).toBe('')
    const v6 = await run('ip', ['-n', NS, '-6', 'addr', 'show'])
    expect(v6.stdout).toContain('::1/128')
  })

  it('behind a DNS64: NAT64 prefix 64:ff9b::/96 found, IPv6 works, the line could run IPv6-only', async () => {
    const w = await world('nat64')
    try {
      const r = await agentTest([`http://portal.test:${PORT}/`, `http://v4only.test:${PORT}/`])
      expect(r.kind).toBe('ipv6_only')
      expect(r.status).toBe('ok')
      expect(r.ipv6Only?.dns64).toMatchObject({ found: true, prefixes: [{ prefix: '64:ff9b::/96', length: 96 }] })
      expect(r.ipv6Only?.ipv6Connect).toBe(true)
      expect(r.ipv6Only?.services[0]).toMatchObject({ url: `http://portal.test:${PORT}/`, aaaa: true, address: '::1', ok: true, httpStatus: 200 })
      // The DNS64 synthesises an AAAA for the IPv4-only site; with no NAT64 on this path it cannot be reached.
      expect(r.ipv6Only?.services[1]).toMatchObject({ aaaa: true, address: '64:ff9b::7f00:1', ok: false })
      expect(r.ipv6Only).toMatchObject({ ready: true, basis: 'nat64' })
    } finally {
      await stop(w)
    }
  })

  it('with a plain resolver: no DNS64, an IPv4-only service, so not ready and the service is named', async () => {
    const w = await world('plain')
    try {
      const r = await agentTest([`http://portal.test:${PORT}/`, `http://v4only.test:${PORT}/`])
      expect(r.ipv6Only?.dns64).toMatchObject({ found: false, prefixes: [] })
      expect(r.ipv6Only?.services[1]).toMatchObject({ aaaa: false, ok: false })
      expect(r.ipv6Only).toMatchObject({ ready: false, basis: null })
      expect(r.ipv6Only?.reason).toContain('v4only.test')
      const ready = await agentTest([`http://portal.test:${PORT}/`, `http://dichvucong.test:${PORT}/`])
      expect(ready.ipv6Only).toMatchObject({ ready: true, basis: 'services' })
    } finally {
      await stop(w)
    }
  })
})
