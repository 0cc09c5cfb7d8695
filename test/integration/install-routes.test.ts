import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { execFile, spawn } from 'node:child_process'
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import net, { type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { request } from 'undici'
import type { FastifyInstance } from 'fastify'
import { loadCollectorConfig } from '../../collector/config.js'
import { buildCollector } from '../../collector/server.js'
import type { NewAgencyReply } from '../../shared/schemas/fleet.js'
import { TOCDO_VERSION } from '../../shared/version.js'
import { addAgency, call, enrol } from '../helpers/fleet-client.js'
import { fakePackagesDir } from '../helpers/fake-packages.js'

const adminToken = 'install-test-admin-token-0123456789'

async function freePort (): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

/** A real collector whose public URL is the address it listens on, serving `packagesDir`. */
async function collector (packagesDir: string): Promise<{ app: FastifyInstance, url: string, dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tocdo-install-'))
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const config = loadCollectorConfig({ overrides: { host: '127.0.0.1', port, publicUrl: url, dataDir, packagesDir, adminToken, logLevel: 'warn' } })
  const app = await buildCollector(config, { logger: false })
  await app.listen({ host: '127.0.0.1', port })
  return { app, url, dataDir }
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/** Runs a shell script with only the tools listed on PATH (plus stubs), as root would. */
async function runScript (script: string, args: string[], { tools, stubs = {}, env = {} }: { tools: string[], stubs?: Record<string, string>, env?: Record<string, string> }): Promise<{ code: number | null, stderr: string, bin: string }> {
  const bin = mkdtempSync(join(tmpdir(), 'tocdo-bin-'))
  for (const t of tools) symlinkSync(`/usr/bin/${t}`, join(bin, t))
  for (const [name, body] of Object.entries(stubs)) { writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`); chmodSync(join(bin, name), 0o755) }
  const proc = spawn('/bin/sh', ['-s', '--', ...args], { env: { PATH: bin, HOME: tmpdir(), ...env }, stdio: ['pipe', 'ignore', 'pipe'] })
  let stderr = ''
  proc.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  proc.stdin.end(script)
  const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)))
  return { code, stderr, bin }
}

const TOOLS = ['sh', 'curl', 'sha256sum', 'mktemp', 'rm', 'mkdir', 'tar', 'gzip', 'find', 'head', 'cut', 'sed', 'id', 'uname', 'cat']

describe('collector serves the agent packages', () => {
  const pk = fakePackagesDir('0.2.0')
  let c: Awaited<ReturnType<typeof collector>>
  beforeAll(async () => { c = await collector(pk.dir) })
  afterAll(async () => {
    await c.app.close()
    rmSync(c.dataDir, { recursive: true, force: true })
    rmSync(pk.dir, { recursive: true, force: true })
  })

  it('/downloads/<file> serves each package with its type and a digest that matches the bytes', async () => {
    const m = await request(`${c.url}/downloads/manifest.json`)
    expect(m.statusCode).toBe(200)
    expect(await m.body.json()).toEqual(pk.manifest)
    const types: Record<string, string> = { zip: 'application/zip', deb: 'application/vnd.debian.binary-package', 'tar.gz': 'application/gzip' }
    for (const f of pk.manifest.files) {
      const r = await request(`${c.url}/downloads/${f.name}`)
      const body = Buffer.from(await r.body.arrayBuffer())
      expect(r.statusCode).toBe(200)
      expect(sha256(body)).toBe(f.sha256)
      expect(body.length).toBe(f.bytes)
      expect(r.headers['content-type']).toBe(types[f.kind])
      expect(r.headers['x-checksum-sha256']).toBe(f.sha256)
      expect(r.headers['repr-digest']).toBe(`sha-256=:${Buffer.from(f.sha256, 'hex').toString('base64')}:`)
    }
    const sums = await request(`${c.url}/downloads/SHA256SUMS`)
    expect(await sums.body.text()).toBe(readFileSync(join(pk.dir, 'SHA256SUMS'), 'utf8'))
    const missing = await call<{ code: string, message: string }>(`${c.url}/downloads/other.exe`, {})
    expect(missing.status).toBe(404)
    expect(missing.body.message).toMatch(/no package named other\.exe/)
  })

  it('/install is Vietnamese by default, English on request, self-contained, with the URL and every digest', async () => {
    const vi = await request(`${c.url}/install`)
    const html = await vi.body.text()
    expect(vi.statusCode).toBe(200)
    expect(vi.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(html).toContain('<html lang="vi">')
    expect(html).toContain('Cài đặt tác tử đo tốc độ tocdo')
    expect(html).toContain(`curl -fsSL ${c.url}/install.sh | sudo sh -s -- --code XXXX-XXXX-XXXX-XXXX`)
    expect(html).toContain(`install.cmd -Collector ${c.url} -Code`)
    for (const f of pk.manifest.files) expect(html).toContain(f.sha256)
    // No external asset: every src/href is this collector's own or a same-page link.
    for (const m of html.matchAll(/(?:src|href)="([^"]+)"/g)) expect(m[1]).toMatch(new RegExp(`^(${c.url.replace(/[.]/g, '\\.')}/|\\?lang=|#)`))
    expect(html).not.toMatch(/<script|<link /)
    expect(String(vi.headers['content-security-policy'])).toMatch(/default-src 'none'; style-src 'sha256-/)
    const en = await (await request(`${c.url}/install?lang=en`)).body.text()
    expect(en).toContain('<html lang="en">')
    expect(en).toContain('Install the tocdo measurement agent')
    expect(en).toContain(pk.manifest.files[0]?.sha256.toUpperCase())
  })

  it('agency add (API and CLI) prints the Linux one-liner and the Windows steps with the new code', async () => {
    const r = await call<NewAgencyReply>(`${c.url}/api/v1/admin/agencies`, { method: 'POST', token: adminToken, body: { name: 'UBND xã Đăk Hà (test)', communeCode: '23281', scheme: '2025-03', category: 'organisation', connectionClass: 'fixed', isp: 'VNPT', planDownMbps: 300, planUpMbps: 300 } })
    expect(r.status).toBe(200)
    const zip = pk.manifest.files.find((f) => f.kind === 'zip')
    expect(r.body.install).toMatchObject({
      installPage: `${c.url}/install`,
      linuxCommand: `curl -fsSL ${c.url}/install.sh | sudo sh -s -- --code ${r.body.enrolment.code}`,
      windows: { zipUrl: `${c.url}/downloads/${zip?.name ?? ''}`, sha256: zip?.sha256 },
      problem: null
    })
    expect(r.body.install?.windows.steps.join('\n')).toMatch(/Run as administrator[\s\S]*enter the collector address [\s\S]* and paste the enrolment code/)
    const cli = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'collector/cli.ts', 'agency', 'add', '--name', 'UBND xã Test', '--commune', '23281', '--scheme', '2025-03', '--connection-class', 'fixed', '--isp', 'VNPT'], { env: { ...process.env, TOCDO_URL: c.url, TOCDO_ADMIN_TOKEN: adminToken } })
    const code = /enrolment code: (\S+)/.exec(cli.stdout)?.[1] ?? ''
    expect(code).toMatch(/^[A-Z2-7]{16}$/)
    expect(cli.stdout).toContain(`curl -fsSL ${c.url}/install.sh | sudo sh -s -- --code ${code}`)
    expect(cli.stdout).toContain(`Download ${c.url}/downloads/${zip?.name ?? ''} and check its SHA-256 is ${zip?.sha256 ?? ''}`)
    expect(cli.stdout).toContain(`install.cmd -Collector ${c.url} -Code ${code}`)
  })

  it('agent health views show version and OS and mark agents older than the packages', async () => {
    const { enrolment } = await addAgency(c.url, adminToken)
    expect((await enrol(c.url, enrolment.code, 'pc-old')).status).toBe(200)
    const admin = await call<{ agents: Array<{ hostname: string, agentVersion: string, os: string, outdated?: boolean }> }>(`${c.url}/api/v1/admin/agents`, { token: adminToken })
    expect(admin.body.agents.find((a) => a.hostname === 'pc-old')).toMatchObject({ agentVersion: '0.1.0', os: 'linux 6.8', outdated: true })
    const health = await call<{ newestVersion: string, agents: Array<{ agentVersion: string, os: string, outdated: boolean }> }>(`${c.url}/api/v1/reports/agent-health`, {})
    expect(health.body.newestVersion).toBe('0.2.0')
    expect(health.body.agents.length).toBeGreaterThan(0)
    for (const a of health.body.agents) expect(a).toMatchObject({ agentVersion: '0.1.0', os: 'linux 6.8', outdated: true })
  })

  it('install.sh on Debian: downloads the .deb, checks its SHA-256, installs, enrols and says how to start', async () => {
    const script = await (await request(`${c.url}/install.sh`)).body.text()
    const record = join(mkdtempSync(join(tmpdir(), 'tocdo-rec-')), 'calls')
    writeFileSync(record, '')
    const r = await runScript(script, ['--code', 'ABCD-EFGH-IJKL-MNOP'], {
      tools: TOOLS,
      stubs: {
        dpkg: `echo "dpkg $*" >> ${record}`,
        'apt-get': `echo "apt-get $*" >> ${record}; sha256sum "$3" >> ${record}`,
        'tocdo-agent': `echo "tocdo-agent $* DATA_DIR=$TOCDO_AGENT_DATA_DIR" >> ${record}`
      }
    })
    expect(r.stderr).toContain('SHA-256 checked')
    expect(r.code).toBe(0)
    const deb = pk.manifest.files.find((f) => f.kind === 'deb')
    const calls = readFileSync(record, 'utf8')
    expect(calls).toMatch(new RegExp(`apt-get install -y /\\S+/${deb?.name.replace(/[.]/g, '\\.') ?? ''}\\n${deb?.sha256 ?? ''} `))
    expect(calls).toContain(`tocdo-agent enroll --collector ${c.url} --code ABCD-EFGH-IJKL-MNOP --force DATA_DIR=/var/lib/tocdo-agent`)
    expect(r.stderr).toMatch(/systemd is not running here/)
  })

  it('install.sh elsewhere: the tarball, its own install.sh with --collector and --code', async () => {
    const script = await (await request(`${c.url}/install.sh`)).body.text()
    const record = join(mkdtempSync(join(tmpdir(), 'tocdo-rec-')), 'args')
    const r = await runScript(script, ['--code=ABCD-EFGH-IJKL-MNOP'], { tools: TOOLS, env: { TOCDO_TEST_RECORD: record } })
    expect(r.code, r.stderr).toBe(0)
    expect(readFileSync(record, 'utf8')).toBe(`tarball install.sh\n--collector\n${c.url}\n--code\nABCD-EFGH-IJKL-MNOP\n`)
  })

  it('install.sh refuses a package whose bytes differ from the digest, and installs nothing', async () => {
    const script = await (await request(`${c.url}/install.sh`)).body.text()
    // A server that answers every download with other bytes (a damaged or altered copy).
    const bad = http.createServer((_req, res) => { res.end('not the package') })
    await new Promise<void>((resolve) => bad.listen(0, '127.0.0.1', resolve))
    const badUrl = `http://127.0.0.1:${(bad.address() as AddressInfo).port}`
    const record = join(mkdtempSync(join(tmpdir(), 'tocdo-rec-')), 'calls')
    try {
      const r = await runScript(script, ['--collector', badUrl, '--code', 'ABCD-EFGH-IJKL-MNOP'], { tools: TOOLS, stubs: { dpkg: `echo dpkg >> ${record}`, 'apt-get': `echo apt-get >> ${record}`, 'tocdo-agent': `echo agent >> ${record}` } })
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/SHA-256 of tocdo-agent_0\.2\.0_amd64\.deb is [0-9a-f]{64}, expected [0-9a-f]{64}: not installing/)
      expect(existsSync(record)).toBe(false)
    } finally {
      await new Promise<void>((resolve) => bad.close(() => resolve()))
    }
  })

  it('a package altered on disk is not served and the page says the packages are inconsistent', async () => {
    const deb = pk.manifest.files.find((f) => f.kind === 'deb')?.name ?? ''
    appendFileSync(join(pk.dir, deb), 'x')
    // The manifest is re-checked when it changes; touch it as a rebuild would.
    writeFileSync(join(pk.dir, 'manifest.json'), JSON.stringify(pk.manifest))
    const r = await call<{ message: string }>(`${c.url}/downloads/${deb}`, {})
    expect(r.status).toBe(404)
    expect(r.body.message).toMatch(new RegExp(`${deb.replace(/[.]/g, '\\.')} does not match its manifest entry`))
  })
})

describe('collector without packages', () => {
  const empty = mkdtempSync(join(tmpdir(), 'tocdo-nopkg-'))
  let c: Awaited<ReturnType<typeof collector>>
  beforeAll(async () => { c = await collector(empty) })
  afterAll(async () => {
    await c.app.close()
    rmSync(c.dataDir, { recursive: true, force: true })
  })

  it('says how to build them, on the page, the downloads and the script', async () => {
    const page = await (await request(`${c.url}/install`)).body.text()
    expect(page).toContain('Máy chủ này chưa có gói cài đặt')
    const r = await call<{ code: string, message: string }>(`${c.url}/downloads/tocdo-agent_${TOCDO_VERSION}_amd64.deb`, {})
    expect(r.status).toBe(404)
    expect(r.body.message).toMatch(/no agent packages on this collector: .*manifest\.json is missing\. Build them with "npm run package"/)
    const script = await (await request(`${c.url}/install.sh`)).body.text()
    const run = await runScript(script, ['--code', 'ABCD-EFGH-IJKL-MNOP'], { tools: TOOLS })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/ERROR: no agent packages on this collector/)
  })

  it('an explicit packages dir that does not exist is refused at start', () => {
    const missing = join(empty, 'nope')
    mkdirSync(join(empty, 'file-not-dir-parent'), { recursive: true })
    expect(() => loadCollectorConfig({ env: { TOCDO_PACKAGES_DIR: missing } })).toThrow(/packagesDir \(from environment variable TOCDO_PACKAGES_DIR\): .*nope is not a directory/)
  })
})
