import Database from 'better-sqlite3'
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Manifest } from '../../packaging/build.js'
import { FAST_AGENT_ENV } from '../helpers/agent-process.js'
import { spawnCollector, type CollectorProcess } from '../helpers/collector-process.js'
import { addAgency } from '../helpers/fleet-client.js'
import { ensurePackages, packagePath } from './packages.js'

const run = promisify(execFile)
const ADMIN = 'packaging-admin-token-0123456789'

/**
 * The Linux tarball as another distribution's administrator gets it: unpacked into an empty
 * directory and run with nothing but its own Node (no node on PATH), it enrols against a real
 * collector, runs a test, and the collector stores the result.
 */
describe('Linux tarball, from an empty directory', () => {
  let manifest: Manifest
  let c: CollectorProcess
  const work = mkdtempSync(join(tmpdir(), 'tocdo-pkg-tarball-'))
  const collectorDir = join(work, 'collector')
  const dataDir = join(work, 'agent-data')
  const pathDir = join(work, 'path')

  beforeAll(async () => {
    manifest = await ensurePackages()
    c = await spawnCollector({ dataDir: collectorDir, env: { TOCDO_ADMIN_TOKEN: ADMIN } })
    // A PATH with only what the launcher's shell script calls: no node, no npm.
    mkdirSync(pathDir)
    for (const tool of ['sh', 'dirname', 'readlink', 'id', 'getent', 'setpriv']) symlinkSync(`/usr/bin/${tool}`, join(pathDir, tool))
  }, 900_000)
  afterAll(async () => {
    c?.proc.kill('SIGTERM')
    await c?.exited
    rmSync(work, { recursive: true, force: true })
  })

  it('enrols, measures and delivers with only its bundled Node', async () => {
    const unpacked = join(work, 'unpacked')
    mkdirSync(unpacked)
    expect(readdirSync(unpacked)).toEqual([])
    await run('tar', ['-xzf', packagePath(manifest, 'tar.gz'), '-C', unpacked])
    const agent = join(unpacked, `tocdo-agent-${manifest.version}-linux-x64`, 'bin', 'tocdo-agent')
    const env = { PATH: pathDir, TOCDO_AGENT_DATA_DIR: dataDir, ...FAST_AGENT_ENV }
    await expect(run('/bin/sh', ['-c', 'command -v node || echo none'], { env })).resolves.toMatchObject({ stdout: 'none\n' })

    const version = await run(agent, ['--version'], { env })
    expect(version.stdout.trim()).toBe(manifest.version)

    const { enrolment } = await addAgency(c.url, ADMIN)
    const enrolled = await run(agent, ['enroll', '--collector', c.url, '--code', enrolment.code], { env })
    expect(enrolled.stdout).toMatch(/enrolled/i)
    const identity = JSON.parse(readFileSync(join(dataDir, 'identity.json'), 'utf8')) as { agentId: string }
    expect(statSync(join(dataDir, 'identity.json')).mode & 0o777).toBe(0o600)

    const once = await run(agent, ['run', '--once', '--server', c.url, '--max-seconds', '2', '--pings', '5'], { env })
    expect(once.stdout).toMatch(/delivery: ok; 0 results waiting, 0 dead letters/)
    // The outbox was written by node:sqlite (the bundled Node has it; the package has no addon).
    expect(readdirSync(dataDir)).toContain('outbox.sqlite')

    const db = new Database(join(collectorDir, 'collector.sqlite'), { readonly: true })
    const stored = db.prepare('SELECT kind FROM result WHERE agent_id = ?').all(identity.agentId) as Array<{ kind: string }>
    db.close()
    expect(stored.length).toBeGreaterThanOrEqual(1)
  })
})
