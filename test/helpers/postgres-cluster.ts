import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** The migrated database every test database is copied from (test/setup/postgres.ts makes it). */
export const TEMPLATE_DATABASE = 'tocdo_template'

/** `url` pointing at database `name` instead. */
export function databaseUrl (url: string, name: string): string {
  const u = new URL(url)
  u.pathname = '/' + name
  return u.toString()
}

/** A private PostgreSQL server for one test run: its own data dir, socket dir and loopback port. */
export interface PostgresCluster {
  /** Superuser URL of the `postgres` database, over TCP on 127.0.0.1 (trust authentication). */
  url: string
  port: number
  dir: string
  /** The server's major version, e.g. 15. */
  version: number
  stop: () => Promise<void>
}

/** The newest Debian-packaged server's bin dir (/usr/lib/postgresql/N/bin), or PATH's pg_config's. */
export function postgresBinDir (): string {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb'))).map(Number).sort((a, b) => b - a) : []
  if (versions.length > 0) return join(root, String(versions[0]), 'bin')
  throw new Error('PostgreSQL is not installed (no /usr/lib/postgresql/N/bin/initdb): run `bash scripts/ensure-test-deps.sh` as root, or `apt-get install postgresql`')
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => { resolve(port) })
    })
  })
}

/**
 * initdb refuses to run as root; as root every server command runs as Debian's `postgres`
 * user, which owns the temp dir.
 */
function asServerUser (file: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args]
}

/**
 * Starts a fresh cluster: initdb into a temp dir (superuser `tocdo`, trust auth, UTF8, C
 * locale), then the server on 127.0.0.1 at a free port with its Unix socket in the same temp
 * dir. fsync stays on, as in production; only initdb's own final sync is skipped.
 */
export async function startPostgresCluster (): Promise<PostgresCluster> {
  const bin = postgresBinDir()
  const dir = mkdtempSync(join(tmpdir(), 'tocdo-pg-'))
  const data = join(dir, 'data')
  const socket = join(dir, 'socket')
  mkdirSync(socket)
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres'])
    const { stdout: gid } = await run('id', ['-g', 'postgres'])
    for (const p of [dir, socket]) chownSync(p, Number(stdout.trim()), Number(gid.trim()))
  }
  const version = Number((await run(join(bin, 'pg_config'), ['--version']).catch(async () => await run(join(bin, 'postgres'), ['--version']))).stdout.replace(/^\D+(\d+).*$/s, '$1'))
  await run(...asServerUser(join(bin, 'initdb'), ['-D', data, '-U', 'tocdo', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']))
  const port = await freePort()
  const options = [
    `-p ${port}`, '-h 127.0.0.1', `-k ${socket}`,
    '-c fsync=on', '-c max_connections=300', '-c shared_buffers=64MB'
  ].join(' ')
  const log = join(dir, 'server.log')
  const ctl = join(bin, 'pg_ctl')
  try {
    await run(...asServerUser(ctl, ['-D', data, '-o', options, '-l', log, '-w', '-t', '120', 'start']))
  } catch (err) {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : ''
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`PostgreSQL test cluster did not start: ${(err as Error).message}\n${tail}`, { cause: err })
  }
  return {
    url: `postgres://tocdo@127.0.0.1:${port}/postgres`,
    port,
    dir,
    version,
    stop: async () => {
      try {
        await run(...asServerUser(ctl, ['-D', data, '-m', 'fast', '-w', '-t', '120', 'stop']))
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
  }
}
