import { execFile } from 'node:child_process'
import { copyFileSync, existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Manifest } from '../../packaging/build.js'
import { CACHE, ROOT } from '../../packaging/node-sources.js'
import { spawnCollector, type CollectorProcess } from '../helpers/collector-process.js'
import { addAgency } from '../helpers/fleet-client.js'
import { ensurePackages, packagePath } from './packages.js'

const run = promisify(execFile)
const ADMIN = 'packaging-admin-token-0123456789'

/**
 * The .deb installed into a throw-away copy of a minimal Debian 12 root (debootstrap, cached
 * under .cache/), never into this machine's own root: commands run under chroot in a private
 * mount namespace with its own /proc. The root shares this machine's network, so the agent in
 * it enrols against a collector listening on 127.0.0.1.
 */
describe('.deb in a throw-away Debian root', () => {
  let manifest: Manifest
  let c: CollectorProcess
  const work = mkdtempSync(join(tmpdir(), 'tocdo-pkg-deb-'))
  const root = join(work, 'root')

  /** Runs a command inside the root, as root, with a clean environment. */
  const inRoot = async (...cmd: string[]): Promise<{ stdout: string, stderr: string }> =>
    await run('unshare', ['--mount', '--fork', '--', 'sh', '-c', 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"', root, ...cmd], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' }
    })
  const passwd = (): string[] | undefined => readFileSync(join(root, 'etc/passwd'), 'utf8').split('\n').map((l) => l.split(':')).find((f) => f[0] === 'tocdo')

  beforeAll(async () => {
    manifest = await ensurePackages()
    const cached = join(CACHE, 'debian-bookworm')
    await run('bash', [join(ROOT, 'test/packaging/debian-root.sh'), cached])
    await run('cp', ['-a', cached, root])
    copyFileSync(packagePath(manifest, 'deb'), join(root, 'tmp', 'tocdo-agent.deb'))
    c = await spawnCollector({ dataDir: join(work, 'collector'), env: { TOCDO_ADMIN_TOKEN: ADMIN } })
  }, 900_000)
  afterAll(async () => {
    c?.proc.kill('SIGTERM')
    await c?.exited
    rmSync(work, { recursive: true, force: true })
  })

  it('installs: tocdo system user, modes, the command on PATH, the unit enabled and verified', async () => {
    const installed = await inRoot('dpkg', '-i', '/tmp/tocdo-agent.deb')
    expect(installed.stdout).toMatch(/Setting up tocdo-agent/)
    const user = passwd()
    expect(user).toBeDefined()
    const [, , uid, gid, , home, shell] = user as string[]
    expect(Number(uid)).toBeLessThan(1000)
    expect([home, shell]).toEqual(['/var/lib/tocdo-agent', '/usr/sbin/nologin'])

    const data = statSync(join(root, 'var/lib/tocdo-agent'))
    expect(data.mode & 0o777).toBe(0o750)
    expect([data.uid, data.gid]).toEqual([Number(uid), Number(gid)])
    for (const [p, mode] of [['opt/tocdo-agent/bin/node', 0o755], ['opt/tocdo-agent/bin/tocdo-agent', 0o755], ['opt/tocdo-agent/lib/tocdo-agent.mjs', 0o644], ['lib/systemd/system/tocdo-agent.service', 0o644]] as const) {
      const s = statSync(join(root, p))
      expect([p, s.mode & 0o777, s.uid]).toEqual([p, mode, 0])
    }
    expect(readlinkSync(join(root, 'usr/bin/tocdo-agent'))).toBe('/opt/tocdo-agent/bin/tocdo-agent')
    expect(lstatSync(join(root, 'etc/systemd/system/multi-user.target.wants/tocdo-agent.service')).isSymbolicLink()).toBe(true)

    const verify = await inRoot('systemd-analyze', 'verify', 'tocdo-agent.service')
    expect(verify.stderr).not.toMatch(/tocdo-agent/)
    expect((await inRoot('tocdo-agent', '--version')).stdout.trim()).toBe(manifest.version)
  })

  it('`tocdo-agent enroll` run as root writes the service\'s data as the tocdo user', async () => {
    const { enrolment } = await addAgency(c.url, ADMIN)
    const out = await inRoot('tocdo-agent', 'enroll', '--collector', c.url, '--code', enrolment.code)
    expect(out.stdout).toMatch(/enrolled/i)
    const uid = Number((passwd() as string[])[2])
    const id = statSync(join(root, 'var/lib/tocdo-agent/identity.json'))
    expect([id.uid, id.mode & 0o777]).toEqual([uid, 0o600])
    const status = await inRoot('tocdo-agent', 'status')
    expect(status.stdout).toContain(c.url)
  })

  it('an upgrade keeps the data; remove keeps it too; purge removes it', async () => {
    const before = readFileSync(join(root, 'var/lib/tocdo-agent/identity.json'), 'utf8')
    const again = await inRoot('dpkg', '-i', '/tmp/tocdo-agent.deb')
    expect(again.stdout).toMatch(/Unpacking tocdo-agent \(.*\) over \(/)
    expect(readFileSync(join(root, 'var/lib/tocdo-agent/identity.json'), 'utf8')).toBe(before)
    expect(statSync(join(root, 'var/lib/tocdo-agent/identity.json')).uid).toBe(Number((passwd() as string[])[2]))

    await inRoot('dpkg', '-r', 'tocdo-agent')
    expect(existsSync(join(root, 'opt/tocdo-agent'))).toBe(false)
    expect(existsSync(join(root, 'usr/bin/tocdo-agent'))).toBe(false)
    expect(readFileSync(join(root, 'var/lib/tocdo-agent/identity.json'), 'utf8')).toBe(before)

    await inRoot('dpkg', '-P', 'tocdo-agent')
    expect(existsSync(join(root, 'var/lib/tocdo-agent'))).toBe(false)
    expect(existsSync(join(root, 'lib/systemd/system/tocdo-agent.service'))).toBe(false)
    // Debian leaves system users in place (no later file may inherit the id).
    expect(passwd()).toBeDefined()
  })
})
