import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { TOCDO_VERSION } from '../shared/version.js'
import { LINUX_DATA_DIR, systemdUnit, utf16le, windowsTaskXml } from '../agent/service/templates.js'
import { fetchNode, readSources, ROOT, sha256File, type Platform } from './node-sources.js'

/**
 * `npm run package`: the agent as one ESM file (esbuild) with Node's official binary beside it,
 * as a Windows zip, Debian packages (amd64, arm64) and a Linux tarball, into dist/packages/
 * with SHA256SUMS and manifest.json (docs/agent.md, "Building the packages"). No native addon
 * goes in: the agent uses node:sqlite on the bundled Node (agent/outbox/sqlite-driver.ts).
 */
export const OUT = join(ROOT, 'dist', 'packages')
const STAGE = join(ROOT, 'dist', 'packages-stage')
const VERSION = TOCDO_VERSION
const MAINTAINER = process.env.TOCDO_PACKAGE_MAINTAINER ?? 'tocdo maintainers <packages@tocdo.invalid>'
/** Timestamps inside the packages: SOURCE_DATE_EPOCH when set (reproducible builds), else now. */
const EPOCH = Number(process.env.SOURCE_DATE_EPOCH ?? Math.floor(Date.now() / 1000))

export interface ManifestFile { name: string, os: 'windows' | 'linux', arch: 'x64' | 'arm64', kind: 'zip' | 'deb' | 'tar.gz', sha256: string, bytes: number }
export interface Manifest { version: string, node: Record<string, string>, files: ManifestFile[] }

const run = promisify(execFile)
/** Asynchronous, so a test worker that builds stays responsive. */
const sh = async (cmd: string, args: string[], cwd?: string): Promise<void> => { await run(cmd, args, { cwd, maxBuffer: 16 << 20 }) }
const crlf = (text: string): string => text.replace(/\r?\n/g, '\r\n')

async function bundle (file: string): Promise<void> {
  await build({
    entryPoints: [join(ROOT, 'agent', 'cli.ts')],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // better-sqlite3 is only reached through createRequire and only on a Node without
    // node:sqlite, which the packages never have; nothing native is bundled.
    external: ['better-sqlite3'],
    // CommonJS dependencies call require() for Node's built-ins; an ES module has none.
    banner: { js: "import { createRequire as __tocdoCreateRequire } from 'node:module'; const require = __tocdoCreateRequire(import.meta.url);" },
    legalComments: 'eof',
    logLevel: 'warning'
  })
  // Under the service the shebang is unused (the launchers name node), but keep it honest.
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^#!.*\n/, ''))
}

function fresh (dir: string): string { rmSync(dir, { recursive: true, force: true }); mkdirSync(dir, { recursive: true }); return dir }
function file (path: string, text: string | Buffer, mode = 0o644): void { writeFileSync(path, text); chmodSync(path, mode) }
function copy (from: string, to: string, mode = 0o644): void { copyFileSync(from, to); chmodSync(to, mode) }
const read = (...p: string[]): string => readFileSync(join(ROOT, 'packaging', ...p), 'utf8')

async function windowsZip (agent: string, nodeDir: string, licence: string): Promise<string> {
  const name = `tocdo-agent-${VERSION}-win-x64`
  const dir = fresh(join(STAGE, name))
  copy(join(nodeDir, 'bin', 'node.exe'), join(dir, 'node.exe'))
  copy(agent, join(dir, 'tocdo-agent.mjs'))
  for (const f of ['install.cmd', 'install.ps1', 'uninstall.cmd', 'uninstall.ps1', 'tocdo-agent.cmd', 'README.txt']) file(join(dir, f), crlf(read('windows', f)))
  file(join(dir, 'LICENSE.node.txt'), crlf(readFileSync(licence, 'utf8')))
  // The task as install.ps1 registers it for the default folders (install-service writes the
  // same from the same template with this machine's actual paths).
  file(join(dir, 'tocdo-agent-task.xml'), utf16le(windowsTaskXml({
    node: 'C:\\Program Files\\tocdo-agent\\node.exe',
    script: 'C:\\Program Files\\tocdo-agent\\tocdo-agent.mjs',
    dataDir: 'C:\\ProgramData\\tocdo'
  })))
  const zip = join(OUT, `${name}.zip`)
  await sh('zip', ['-q', '-X', '-r', zip, name], STAGE)
  return zip
}

/** The tree shared by the .deb and the tarball: bin/node, bin/tocdo-agent, lib/tocdo-agent.mjs. */
function linuxTree (dir: string, agent: string, nodeDir: string): void {
  mkdirSync(join(dir, 'bin'), { recursive: true })
  mkdirSync(join(dir, 'lib'), { recursive: true })
  copy(join(nodeDir, 'bin', 'node'), join(dir, 'bin', 'node'), 0o755)
  file(join(dir, 'bin', 'tocdo-agent'), read('linux', 'tocdo-agent'), 0o755)
  copy(agent, join(dir, 'lib', 'tocdo-agent.mjs'))
  copy(join(nodeDir, 'LICENSE'), join(dir, 'LICENSE.node.txt'))
}

const UNIT = systemdUnit({ execStart: ['/opt/tocdo-agent/bin/tocdo-agent'], dataDir: LINUX_DATA_DIR })

function rfc2822 (epochS: number): string {
  return new Date(epochS * 1000).toUTCString().replace('GMT', '+0000').replace(/^(\w+), (\d) /, '$1, 0$2 ')
}

async function deb (agent: string, nodeDir: string, arch: 'amd64' | 'arm64'): Promise<string> {
  const root = fresh(join(STAGE, `deb-${arch}`))
  const opt = join(root, 'opt', 'tocdo-agent')
  linuxTree(opt, agent, nodeDir)
  mkdirSync(join(root, 'usr', 'bin'), { recursive: true })
  symlinkSync('/opt/tocdo-agent/bin/tocdo-agent', join(root, 'usr', 'bin', 'tocdo-agent'))
  mkdirSync(join(root, 'lib', 'systemd', 'system'), { recursive: true })
  file(join(root, 'lib', 'systemd', 'system', 'tocdo-agent.service'), UNIT)
  const doc = join(root, 'usr', 'share', 'doc', 'tocdo-agent')
  mkdirSync(doc, { recursive: true })
  file(join(doc, 'copyright'), read('debian', 'copyright'))
  file(join(doc, 'changelog.gz'), gzipSync(`tocdo-agent (${VERSION}) unstable; urgency=medium\n\n  * tocdo ${VERSION}.\n\n -- ${MAINTAINER}  ${rfc2822(EPOCH)}\n`, { level: 9 }))
  const overrides = join(root, 'usr', 'share', 'lintian', 'overrides')
  mkdirSync(overrides, { recursive: true })
  file(join(overrides, 'tocdo-agent'), read('debian', 'lintian-overrides'))
  const control = join(root, 'DEBIAN')
  mkdirSync(control)
  const kb = Math.ceil(duBytes(root) / 1024)
  file(join(control, 'control'), `Package: tocdo-agent
Version: ${VERSION}
Architecture: ${arch}
Maintainer: ${MAINTAINER}
Installed-Size: ${kb}
Depends: libc6 (>= 2.28), libstdc++6 (>= 10), libgcc-s1, passwd
Section: net
Priority: optional
Description: tocdo broadband measurement agent
 Measures the download and upload speed and the latency of this site's
 internet line on a schedule and delivers the results to a tocdo
 collector, which reports them against national and provincial targets.
 Bundles its own Node.js under /opt/tocdo-agent; runs as the tocdo-agent
 systemd service under the "tocdo" system user.
`)
  for (const s of ['postinst', 'prerm', 'postrm']) file(join(control, s), read('debian', s), 0o755)
  file(join(control, 'md5sums'), filesUnder(root).filter((p) => !p.startsWith('DEBIAN/')).map((p) => `${createHash('md5').update(readFileSync(join(root, p))).digest('hex')}  ${p}\n`).join(''))
  const out = join(OUT, `tocdo-agent_${VERSION}_${arch}.deb`)
  await sh('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, out])
  return out
}

/** Regular files under dir (no symlinks), relative, sorted. */
function filesUnder (dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name)).flatMap((e) => {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`
    return e.isDirectory() ? filesUnder(dir, rel) : e.isFile() ? [rel] : []
  })
}

function duBytes (dir: string): number {
  let n = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) n += duBytes(p)
    else if (e.isFile()) n += statSync(p).size
  }
  return n
}

async function tarball (agent: string, nodeDir: string): Promise<string> {
  const name = `tocdo-agent-${VERSION}-linux-x64`
  const dir = fresh(join(STAGE, name))
  linuxTree(dir, agent, nodeDir)
  file(join(dir, 'install.sh'), read('linux', 'install.sh'), 0o755)
  file(join(dir, 'uninstall.sh'), read('linux', 'uninstall.sh'), 0o755)
  file(join(dir, 'tocdo-agent.service'), UNIT)
  const out = join(OUT, `${name}.tar.gz`)
  await sh('tar', ['--owner=0', '--group=0', '--numeric-owner', `--mtime=@${EPOCH}`, '--sort=name', '-czf', out, name], STAGE)
  return out
}

export async function buildPackages (): Promise<Manifest> {
  const sources = readSources()
  const nodes: Record<Platform, string> = {
    'win-x64': await fetchNode('win-x64', sources.packages['win-x64']),
    'linux-x64': await fetchNode('linux-x64', sources.packages['linux-x64']),
    'linux-arm64': await fetchNode('linux-arm64', sources.packages['linux-arm64'])
  }
  fresh(OUT)
  fresh(STAGE)
  const agent = join(STAGE, 'tocdo-agent.mjs')
  await bundle(agent)
  const built: Array<Omit<ManifestFile, 'name' | 'sha256' | 'bytes'> & { path: string }> = [
    { path: await windowsZip(agent, nodes['win-x64'], join(nodes['linux-x64'], 'LICENSE')), os: 'windows', arch: 'x64', kind: 'zip' },
    { path: await deb(agent, nodes['linux-x64'], 'amd64'), os: 'linux', arch: 'x64', kind: 'deb' },
    { path: await deb(agent, nodes['linux-arm64'], 'arm64'), os: 'linux', arch: 'arm64', kind: 'deb' },
    { path: await tarball(agent, nodes['linux-x64']), os: 'linux', arch: 'x64', kind: 'tar.gz' }
  ]
  const files: ManifestFile[] = built.map(({ path, os, arch, kind }) => ({
    name: path.slice(OUT.length + 1), os, arch, kind, sha256: sha256File(path), bytes: statSync(path).size
  }))
  writeFileSync(join(OUT, 'SHA256SUMS'), files.map((f) => `${f.sha256}  ${f.name}\n`).join(''))
  const manifest: Manifest = {
    version: VERSION,
    node: Object.fromEntries(Object.entries(sources.packages).map(([p, v]) => [p, v])),
    files
  }
  writeFileSync(join(OUT, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
  rmSync(STAGE, { recursive: true, force: true })
  return manifest
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  buildPackages().then((m) => {
    for (const f of m.files) process.stdout.write(`${f.sha256}  ${f.name}  (${(f.bytes / 1e6).toFixed(1)} MB)\n`)
  }).catch((err: unknown) => {
    process.stderr.write(`package: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  })
}
