import { execFile, execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { SaxesParser } from 'saxes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Manifest } from '../../packaging/build.js'
import { OUT } from '../../packaging/build.js'
import { readSources, recorded } from '../../packaging/node-sources.js'
import { ensurePackages, packagePath } from './packages.js'

/**
 * What `npm run package` produces, checked from the outside: digests, file lists, the Windows
 * node.exe, line endings, the Task Scheduler definition, the .deb's metadata and lintian.
 */
let manifest: Manifest
const work = mkdtempSync(join(tmpdir(), 'tocdo-pkg-contents-'))
beforeAll(async () => { manifest = await ensurePackages() }, 900_000)
afterAll(() => { rmSync(work, { recursive: true, force: true }) })

const out = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 })
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/** Names inside each package. */
function listing (kind: string, path: string): string[] {
  if (kind === 'zip') return out('unzip', ['-Z1', path]).split('\n').filter(Boolean)
  if (kind === 'deb') return out('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -t', 'sh', path]).split('\n').filter(Boolean)
  return out('tar', ['-tzf', path]).split('\n').filter(Boolean)
}

/** PE header: "MZ", e_lfanew → "PE\0\0", machine 0x8664 (x86-64), optional header magic 0x20b (PE32+). */
function peKind (exe: Buffer): { pe32plus: boolean, machine: number, subsystem: number } {
  expect(exe.toString('latin1', 0, 2)).toBe('MZ')
  const pe = exe.readUInt32LE(0x3c)
  expect(exe.toString('latin1', pe, pe + 4)).toBe('PE\0\0')
  const machine = exe.readUInt16LE(pe + 4)
  const optional = pe + 24
  return { pe32plus: exe.readUInt16LE(optional) === 0x20b, machine, subsystem: exe.readUInt16LE(optional + 68) }
}

describe('npm run package', () => {
  it('writes SHA256SUMS and manifest.json that match every file, one per platform and kind', () => {
    expect(manifest.version).toMatch(/^\d+\.\d+\.\d+/)
    expect(manifest.files.map((f) => `${f.os}/${f.arch}/${f.kind}`).sort()).toEqual(['linux/arm64/deb', 'linux/x64/deb', 'linux/x64/tar.gz', 'windows/x64/zip'])
    const sums = readFileSync(join(OUT, 'SHA256SUMS'), 'utf8').trim().split('\n')
    expect(sums).toHaveLength(manifest.files.length)
    for (const f of manifest.files) {
      const bytes = readFileSync(join(OUT, f.name))
      expect(sha256(bytes), f.name).toBe(f.sha256)
      expect(bytes.length).toBe(f.bytes)
      expect(sums).toContain(`${f.sha256}  ${f.name}`)
    }
    expect(manifest.files.map((f) => f.name)).toContain(`tocdo-agent_${manifest.version}_amd64.deb`)
    expect(manifest.files.map((f) => f.name)).toContain(`tocdo-agent-${manifest.version}-win-x64.zip`)
    expect(manifest.files.map((f) => f.name)).toContain(`tocdo-agent-${manifest.version}-linux-x64.tar.gz`)
  })

  it('puts no native addon (.node file) and no node_modules in any package', () => {
    for (const f of manifest.files) {
      const names = listing(f.kind, join(OUT, f.name))
      expect(names.length, f.name).toBeGreaterThan(3)
      expect(names.filter((n) => n.endsWith('.node') || n.includes('node_modules')), f.name).toEqual([])
    }
  })

  it('ships the Windows node.exe unmodified: PE32+ x86-64 with the digest recorded in packaging/node-sources.json', () => {
    const zip = packagePath(manifest, 'zip')
    const dir = join(work, 'zip')
    execFileSync('unzip', ['-q', zip, '-d', dir])
    const top = join(dir, `tocdo-agent-${manifest.version}-win-x64`)
    const exe = readFileSync(join(top, 'node.exe'))
    const pe = peKind(exe)
    expect(pe).toEqual({ pe32plus: true, machine: 0x8664, subsystem: 3 }) // 3: Windows console
    const win = readSources().packages['win-x64']
    expect(sha256(exe)).toBe(recorded('win-x64', win).sha256)
    expect(manifest.node['win-x64']).toBe(win)
  })

  it('writes every Windows script with CRLF line ends only', () => {
    const top = join(work, 'zip', `tocdo-agent-${manifest.version}-win-x64`)
    for (const f of ['install.cmd', 'install.ps1', 'uninstall.cmd', 'uninstall.ps1', 'tocdo-agent.cmd', 'README.txt']) {
      const text = readFileSync(join(top, f), 'latin1')
      expect(text.length, f).toBeGreaterThan(100)
      expect(text.split('\r\n').some((l) => l.includes('\n') || l.includes('\r')), `${f} has a bare LF or CR`).toBe(false)
      expect(text.endsWith('\r\n'), f).toBe(true)
    }
    const ps1 = readFileSync(join(top, 'install.ps1'), 'utf8')
    expect(ps1).toMatch(/\[string\]\$Collector/)
    expect(ps1).toMatch(/\[string\]\$Code/)
    expect(ps1).toMatch(/install-service --data-dir \$data/)
  })

  it('carries a Task Scheduler task that parses and says: at boot, LocalService, no time limit, restart on failure, one instance', () => {
    const raw = readFileSync(join(work, 'zip', `tocdo-agent-${manifest.version}-win-x64`, 'tocdo-agent-task.xml'))
    expect([raw[0], raw[1]]).toEqual([0xff, 0xfe]) // UTF-16 LE byte-order mark, as schtasks /XML reads it
    const xml = raw.subarray(2).toString('utf16le')
    const values = new Map<string, string>()
    const path: string[] = []
    const parser = new SaxesParser({ xmlns: true })
    parser.on('opentag', (t) => { path.push(t.local) })
    parser.on('text', (t) => { if (t.trim() !== '') values.set(path.join('/'), t.trim()) })
    parser.on('closetag', () => { path.pop() })
    parser.write(xml).close()
    expect(values.get('Task/Triggers/BootTrigger/Enabled')).toBe('true')
    expect(values.get('Task/Principals/Principal/UserId')).toBe('S-1-5-19')
    expect(values.get('Task/Principals/Principal/LogonType')).toBe('ServiceAccount')
    expect(values.get('Task/Principals/Principal/RunLevel')).toBe('LeastPrivilege')
    expect(values.get('Task/Settings/ExecutionTimeLimit')).toBe('PT0S')
    expect(values.get('Task/Settings/RestartOnFailure/Interval')).toBe('PT1M')
    expect(Number(values.get('Task/Settings/RestartOnFailure/Count'))).toBeGreaterThan(100)
    expect(values.get('Task/Settings/MultipleInstancesPolicy')).toBe('IgnoreNew')
    expect(values.get('Task/Settings/DisallowStartIfOnBatteries')).toBe('false')
    expect(values.get('Task/Settings/StopIfGoingOnBatteries')).toBe('false')
    expect(values.get('Task/Actions/Exec/Command')).toBe('C:\\Program Files\\tocdo-agent\\node.exe')
    expect(values.get('Task/Actions/Exec/Arguments')).toBe('"C:\\Program Files\\tocdo-agent\\tocdo-agent.mjs" service --data-dir C:\\ProgramData\\tocdo')
  })

  it('builds .debs whose metadata, layout and modes are right, and lintian reports no error', async () => {
    for (const arch of ['amd64', 'arm64'] as const) {
      const deb = packagePath(manifest, 'deb', arch === 'amd64' ? 'x64' : 'arm64')
      const field = (name: string): string => out('dpkg-deb', ['--field', deb, name]).trim()
      expect(field('Package')).toBe('tocdo-agent')
      expect(field('Version')).toBe(manifest.version)
      expect(field('Architecture')).toBe(arch)
      expect(field('Depends')).toMatch(/libc6/)
      const contents = out('dpkg-deb', ['--contents', deb])
      const line = (p: string): string => contents.split('\n').find((l) => l.endsWith(` ${p}`) || l.includes(` ${p} -> `)) ?? `missing ${p}`
      expect(line('./opt/tocdo-agent/bin/node')).toMatch(/^-rwxr-xr-x root\/root/)
      expect(line('./opt/tocdo-agent/bin/tocdo-agent')).toMatch(/^-rwxr-xr-x root\/root/)
      expect(line('./opt/tocdo-agent/lib/tocdo-agent.mjs')).toMatch(/^-rw-r--r-- root\/root/)
      expect(line('./lib/systemd/system/tocdo-agent.service')).toMatch(/^-rw-r--r-- root\/root/)
      expect(line('./usr/bin/tocdo-agent')).toMatch(/^lrwxrwxrwx root\/root .* -> \/opt\/tocdo-agent\/bin\/tocdo-agent$/)
      const node = recorded(arch === 'amd64' ? 'linux-x64' : 'linux-arm64', readSources().packages[arch === 'amd64' ? 'linux-x64' : 'linux-arm64'])
      const dir = join(work, `deb-${arch}`)
      execFileSync('dpkg-deb', ['-x', deb, dir])
      expect(sha256(readFileSync(join(dir, 'opt/tocdo-agent/bin/node')))).toBe(node.sha256)
      expect(out('file', ['-b', join(dir, 'opt/tocdo-agent/bin/node')])).toMatch(arch === 'amd64' ? /ELF 64-bit LSB .*x86-64/ : /ELF 64-bit LSB .*ARM aarch64/)
    }
    // lintian exits non-zero on any error-level tag (the three overrides are in
    // packaging/debian/lintian-overrides, each with its reason).
    const { stdout } = await promisify(execFile)('lintian', ['--fail-on', 'error', packagePath(manifest, 'deb')], { encoding: 'utf8' })
    expect(stdout).not.toMatch(/^E: /m)
  })

  it('bundles the agent for the Linux tarball with the same launcher, unit and scripts', () => {
    const names = listing('tar.gz', packagePath(manifest, 'tar.gz'))
    const top = `tocdo-agent-${manifest.version}-linux-x64`
    for (const f of ['bin/node', 'bin/tocdo-agent', 'lib/tocdo-agent.mjs', 'install.sh', 'uninstall.sh', 'tocdo-agent.service', 'LICENSE.node.txt']) expect(names).toContain(`${top}/${f}`)
  })
})
