import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, mkdtempSync, readFileSync, readlinkSync, renameSync, rmSync, statSync } from 'node:fs'
import net, { type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { FastifyInstance } from 'fastify'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OUT, type Manifest } from '../../packaging/build.js'
import { CACHE, ROOT } from '../../packaging/node-sources.js'
import { loadCollectorConfig } from '../../collector/config.js'
import { buildCollector } from '../../collector/server.js'
import { addAgency } from '../helpers/fleet-client.js'
import { ensurePackages } from './packages.js'

const run = promisify(execFile)
const ADMIN = 'install-sh-admin-token-0123456789'
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/**
 * The packages `npm run package` builds, served by a real collector (/install, /downloads),
 * and the Linux one-liner `curl -fsSL <collector>/install.sh | sh -s -- --code …` run for real
 * inside a throw-away copy of a minimal Debian 12 root (never this machine's own root): first
 * with dpkg hidden, so it takes the tarball, then as on Debian, with the .deb.
 */
describe('install.sh and /downloads with the real packages', () => {
  let manifest: Manifest
  let app: FastifyInstance
  let url: string
  const work = mkdtempSync(join(tmpdir(), 'tocdo-pkg-install-'))
  const root = join(work, 'root')

  const inRoot = async (...cmd: string[]): Promise<{ stdout: string, stderr: string }> =>
    await run('unshare', ['--mount', '--fork', '--', 'sh', '-c', 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"', root, ...cmd], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
      maxBuffer: 16 << 20
    })
  /** The one-liner as the install page and `agency add` print it (already root, so no sudo). */
  const oneLiner = async (code: string): Promise<{ code: number, stderr: string }> => {
    try {
      const r = await inRoot('sh', '-c', `curl -fsSL ${url}/install.sh | sh -s -- --code ${code}`)
      return { code: 0, stderr: r.stderr }
    } catch (err) {
      const e = err as { code: number, stderr: string }
      return { code: e.code, stderr: e.stderr }
    }
  }
  const tocdoUid = (): number => Number(readFileSync(join(root, 'etc/passwd'), 'utf8').split('\n').map((l) => l.split(':')).find((f) => f[0] === 'tocdo')?.[2])

  beforeAll(async () => {
    manifest = await ensurePackages()
    await run('bash', [join(ROOT, 'test/packaging/debian-root.sh'), join(CACHE, 'debian-bookworm')])
    await run('cp', ['-a', join(CACHE, 'debian-bookworm'), root])
    copyFileSync('/etc/resolv.conf', join(root, 'etc/resolv.conf'))
    // A minimal root has neither curl nor wget; the one-liner needs one of them.
    await inRoot('sh', '-c', 'apt-get update -qq && apt-get install -y -qq --no-install-recommends curl >/dev/null')
    const s = net.createServer()
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
    const port = (s.address() as AddressInfo).port
    await new Promise<void>((resolve) => s.close(() => resolve()))
    url = `http://127.0.0.1:${port}`
    const config = loadCollectorConfig({ overrides: { host: '127.0.0.1', port, publicUrl: url, dataDir: join(work, 'collector'), packagesDir: OUT, adminToken: ADMIN, logLevel: 'warn' } })
    app = await buildCollector(config, { logger: false })
    await app.listen({ host: '127.0.0.1', port })
  }, 900_000)
  afterAll(async () => {
    await app?.close()
    rmSync(work, { recursive: true, force: true })
  })

  it('/downloads serves every built package with the digest of the file on disk; /install shows them', async () => {
    const page = await (await request(`${url}/install?lang=en`)).body.text()
    for (const f of manifest.files) {
      const onDisk = sha256(readFileSync(join(OUT, f.name)))
      expect(onDisk).toBe(f.sha256)
      const r = await request(`${url}/downloads/${f.name}`)
      const body = Buffer.from(await r.body.arrayBuffer())
      expect([r.statusCode, sha256(body), r.headers['x-checksum-sha256']]).toEqual([200, f.sha256, f.sha256])
      expect(page).toContain(f.sha256)
    }
    const sums = await (await request(`${url}/downloads/SHA256SUMS`)).body.text()
    expect(sums).toBe(readFileSync(join(OUT, 'SHA256SUMS'), 'utf8'))
  })

  it('without dpkg: downloads the tarball, checks it, runs its install.sh, which enrols', async () => {
    renameSync(join(root, 'usr/bin/dpkg'), join(root, 'usr/bin/dpkg.hidden'))
    const { enrolment } = await addAgency(url, ADMIN)
    let r: { code: number, stderr: string }
    try { r = await oneLiner(enrolment.code) } finally { renameSync(join(root, 'usr/bin/dpkg.hidden'), join(root, 'usr/bin/dpkg')) }
    const tar = manifest.files.find((f) => f.kind === 'tar.gz')
    expect(r.stderr).toContain(`downloading ${tar?.name ?? '?'}`)
    expect(r.stderr).toContain(`SHA-256 checked: ${tar?.sha256 ?? '?'}`)
    expect(r.code, r.stderr).toBe(0)
    const identity = statSync(join(root, 'var/lib/tocdo-agent/identity.json'))
    expect(identity.uid).toBe(tocdoUid())
    expect(JSON.parse(readFileSync(join(root, 'var/lib/tocdo-agent/identity.json'), 'utf8'))).toMatchObject({ collector: url })
  })

  it('on Debian: the .deb, checked, installed with apt-get, enrolled again with a new code; status reads it', async () => {
    const { enrolment } = await addAgency(url, ADMIN)
    const before = readFileSync(join(root, 'var/lib/tocdo-agent/identity.json'), 'utf8')
    const r = await oneLiner(enrolment.code)
    const deb = manifest.files.find((f) => f.kind === 'deb' && f.arch === 'x64')
    expect(r.stderr).toContain(`downloading ${deb?.name ?? '?'}`)
    expect(r.stderr).toContain(`SHA-256 checked: ${deb?.sha256 ?? '?'}`)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/systemd is not running here/)
    expect((await inRoot('dpkg-query', '-s', 'tocdo-agent')).stdout).toMatch(/^Status: install ok installed$/m)
    const after = readFileSync(join(root, 'var/lib/tocdo-agent/identity.json'), 'utf8')
    expect(after).not.toBe(before)
    expect(statSync(join(root, 'var/lib/tocdo-agent/identity.json')).uid).toBe(tocdoUid())
    const status = await inRoot('tocdo-agent', 'status')
    expect(status.stdout).toMatch(new RegExp(`^tocdo agent ${manifest.version.replace(/\./g, '\\.')}: enrolled as `))
    expect(status.stdout).toContain('data dir     /var/lib/tocdo-agent')
    // The launcher on PATH points into the package (an absolute link, read inside the root).
    expect(readlinkSync(join(root, 'usr/bin/tocdo-agent'))).toBe('/opt/tocdo-agent/bin/tocdo-agent')
  })
})
