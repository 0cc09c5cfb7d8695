/**
 * The README's first command: a collector on localhost with SQLite under ./data, a demo
 * agency with a local agent, one measurement at once against the collector's own test
 * endpoints, then the agent on its schedule. Beside it, a second collector serves a separate
 * database of generated sample data (./data/sample, collector/sample-data.ts), marked
 * "Dữ liệu mẫu" on every page, so every page of the dashboard has figures in the first minute.
 * Prints the dashboard links.
 *
 * The collectors and the agent run as separate processes, as they would in the field.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..')
const dataDir = process.env.TOCDO_DATA_DIR ?? './data'
const children: ChildProcess[] = []

async function freePort (preferred: number): Promise<number> {
  const tryPort = async (port: number): Promise<number | null> => await new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => { resolve(null) })
    s.listen(port, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => { resolve(typeof a === 'object' && a !== null ? a.port : null) })
    })
  })
  return (await tryPort(preferred)) ?? (await tryPort(0)) ?? preferred
}

function start (script: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(process.execPath, [join(root, 'dist', script), ...args], { stdio: 'inherit', env: { ...process.env, ...env } })
  children.push(child)
  return child
}

async function waitHealthy (url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`${url}/healthz`)
      if (r.ok) return
    } catch {}
    await sleep(200)
  }
  throw new Error(`collector did not become healthy at ${url}`)
}

function stopAll (): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM')
}

async function main (): Promise<void> {
  const port = Number(process.env.TOCDO_PORT ?? await freePort(8080))
  const url = `http://localhost:${port}`
  process.once('SIGINT', stopAll)
  process.once('SIGTERM', stopAll)

  console.log(`tocdo demo: starting the collector on ${url} (data in ${dataDir})`)
  const collector = start('collector/cli.js', ['--demo', '--data-dir', dataDir, '--port', String(port), '--log-level', 'warn'], { TOCDO_PUBLIC_URL: url })
  collector.once('exit', (code) => { if (code !== 0 && code !== null) { console.error(`collector exited with ${code}`); stopAll(); process.exitCode = 1 } })
  await waitHealthy(url)

  const samplePort = await freePort(port + 1)
  const sampleUrl = `http://localhost:${samplePort}`
  const sampleDir = join(dataDir, 'sample')
  console.log(`tocdo demo: starting a second collector with generated sample data on ${sampleUrl} (data in ${sampleDir}; about 30 s the first time)`)
  const sample = start('collector/cli.js', ['--sample-data', '--data-dir', sampleDir, '--port', String(samplePort), '--log-level', 'warn'], {
    TOCDO_PUBLIC_URL: sampleUrl,
    TOCDO_DEPARTMENT_NAME: process.env.TOCDO_DEPARTMENT_NAME ?? 'Sở Khoa học và Công nghệ tỉnh Quảng Ngãi'
  })
  sample.once('exit', (code) => { if (code !== 0 && code !== null) console.error(`sample-data collector exited with ${code}`) })
  await waitHealthy(sampleUrl)

  const creds = JSON.parse(readFileSync(join(dataDir, 'demo-agent.json'), 'utf8')) as { token: string, agentId: string, agencyId: string, legacyProvinceCode: string }
  const agentEnv = { TOCDO_AGENT_DATA_DIR: join(dataDir, 'agent') }
  const agentArgs = ['--collector', url, '--token', creds.token, '--agent-id', creds.agentId, '--log-level', 'warn']
  const finished = async (child: ChildProcess, what: string): Promise<void> => {
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    if (code !== 0) throw new Error(`${what} failed (agent exit code ${String(code)})`)
  }

  // As at a real install: measure what this machine itself can move, so results it limits
  // are flagged client_limited rather than reported as the line's speed.
  console.log('tocdo demo: calibrating this machine\'s own throughput ceiling (about 10 s)…')
  await finished(start('agent/cli.js', ['calibrate'], agentEnv), 'calibration')

  console.log('tocdo demo: the local agent is measuring now (idle latency, download, upload; up to 40 s)…')
  await finished(start('agent/cli.js', ['run', '--once', ...agentArgs], agentEnv), 'the first measurement')

  const report = `${url}/api/v1/reports/districts?province=${creds.legacyProvinceCode}`
  const r = await fetch(report)
  const body = await r.json() as { districts: Array<{ districtCode: string, districtName: string, results: number, validResults: number }> }
  const mine = body.districts.filter((d) => d.results > 0)
  console.log('\ntocdo demo: measurement stored and counted:')
  for (const d of mine) console.log(`  district ${d.districtCode} ${d.districtName}: ${d.results} result(s), ${d.validResults} valid for targets`)
  console.log('  (The demo measures this machine over loopback, not a line, so its result is flagged and kept\n   out of target figures; agents on agency lines count.)')
  console.log('\n  Dashboard, sample data ("Dữ liệu mẫu"), every page filled:')
  console.log(`    ${sampleUrl}/dashboard/`)
  console.log('  Dashboard, this machine\'s own measurement (the real database):')
  console.log(`    ${url}/dashboard/#/agency/${encodeURIComponent(creds.agencyId)}?v=2025-07&p=51`)
  console.log('\nThe agent keeps measuring on its schedule. Press Ctrl-C to stop.\n')

  start('agent/cli.js', ['run', ...agentArgs], agentEnv)
}

main().catch((err: unknown) => {
  console.error(`tocdo demo: ${err instanceof Error ? err.message : String(err)}`)
  stopAll()
  process.exitCode = 1
})
