import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { RotatingLog } from '../../agent/service/rotating-log.js'
import { supervise } from '../../agent/service/supervisor.js'
import { STOP_REQUEST_FILE, systemdUnit, windowsTaskXml } from '../../agent/service/templates.js'

const dirs: string[] = []
function tmp (): string { const d = mkdtempSync(join(tmpdir(), 'tocdo-service-')); dirs.push(d); return d }
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })

/** A real child process standing in for `tocdo-agent run`, with the IPC channel the supervisor opens. */
const child = (code: string) => () => spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })

describe('Windows service supervisor', () => {
  it('restarts the agent after a non-zero exit and stops for good when it exits 0', async () => {
    const dir = tmp()
    const count = join(dir, 'starts')
    let out = ''
    const code = await supervise({
      dataDir: dir,
      signal: new AbortController().signal,
      write: (d) => { out += String(d) },
      backoffMs: 20,
      start: child(`const fs = require('fs'); const n = fs.existsSync(${JSON.stringify(count)}) ? Number(fs.readFileSync(${JSON.stringify(count)}, 'utf8')) : 0;
        fs.writeFileSync(${JSON.stringify(count)}, String(n + 1)); console.log('run ' + n); process.exit(n < 2 ? 1 : 0)`)
    })
    expect(code).toBe(0)
    expect(readFileSync(count, 'utf8')).toBe('3')
    expect(out.match(/restarting in/g)).toHaveLength(2)
    expect(out).toMatch(/run 2/)
    expect(out).toMatch(/exited 0 \(stopped or decommissioned\); not restarting/)
  })

  it('a stop-request file asks the agent over IPC to finish, and the supervisor returns 0', async () => {
    const dir = tmp()
    let out = ''
    let started!: () => void
    const running = new Promise<void>((resolve) => { started = resolve })
    const done = supervise({
      dataDir: dir,
      signal: new AbortController().signal,
      write: (d) => { out += String(d); if (out.includes('ready')) started() },
      pollMs: 20,
      start: child("process.on('message', (m) => { if (m === 'stop') { console.log('finishing step'); process.exit(0) } }); console.log('ready')")
    })
    await running
    writeFileSync(join(dir, STOP_REQUEST_FILE), '')
    expect(await done).toBe(0)
    expect(out).toMatch(/stop requested/)
    expect(out).toMatch(/finishing step/)
    expect(existsSync(join(dir, STOP_REQUEST_FILE))).toBe(false)
  })

  it('ends an agent that ignores the stop request after the grace period', async () => {
    const dir = tmp()
    const stop = new AbortController()
    let out = ''
    const done = supervise({
      dataDir: dir,
      signal: stop.signal,
      write: (d) => { out += String(d); if (out.includes('stubborn')) stop.abort() },
      stopGraceMs: 100,
      start: child("process.on('message', () => {}); console.log('stubborn'); setInterval(() => {}, 1000)")
    })
    expect(await done).toBe(0)
    expect(out).toMatch(/did not stop in time; ending it/)
  })
})

describe('rotating log', () => {
  it('rotates by size and keeps the configured number of old files', () => {
    const dir = tmp()
    const log = new RotatingLog(dir, { maxBytes: 100, keep: 2 })
    for (let i = 0; i < 20; i++) log.write(`line ${String(i).padStart(2, '0')} ${'x'.repeat(20)}\n`)
    log.close()
    expect(readdirSync(dir).sort()).toEqual(['agent.log', 'agent.log.1', 'agent.log.2'])
    expect(readFileSync(join(dir, 'agent.log'), 'utf8')).toMatch(/line 19/)
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f)).length).toBeLessThanOrEqual(100)
  })
})

describe('service templates', () => {
  it('quote paths with spaces for systemd and for the Windows command line', () => {
    const unit = systemdUnit({ execStart: ['/usr/local/bin/node', '/srv/my tocdo/cli.js'], dataDir: '/srv/tocdo data' })
    expect(unit).toMatch(/^ExecStart=\/usr\/local\/bin\/node "\/srv\/my tocdo\/cli.js" run$/m)
    expect(unit).toMatch(/^ReadWritePaths="\/srv\/tocdo data"$/m)
    expect(unit).not.toMatch(/StateDirectory/)
    expect(systemdUnit({ execStart: ['/opt/tocdo-agent/bin/tocdo-agent'] })).toMatch(/^StateDirectory=tocdo-agent$/m)
    const xml = windowsTaskXml({ node: 'C:\\Program Files\\tocdo-agent\\node.exe', script: 'C:\\a b\\x.mjs', dataDir: 'D:\\data\\' })
    expect(xml).toContain('<Arguments>&quot;C:\\a b\\x.mjs&quot; service --data-dir D:\\data\\</Arguments>')
  })
})
