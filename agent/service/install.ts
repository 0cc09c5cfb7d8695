import { execFileSync } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TocdoError } from '../../shared/errors.js'
import { IDENTITY_FILE } from '../identity.js'
import { LOCK_FILE } from '../outbox/lock.js'
import {
  ADMINISTRATORS_SID, LINUX_DATA_DIR, LOCAL_SERVICE_SID, SERVICE_NAME, SERVICE_USER, STOP_REQUEST_FILE, WINDOWS_DATA_SUBDIR,
  systemdUnit, utf16le, windowsTaskXml
} from './templates.js'

/**
 * `tocdo-agent install-service` / `uninstall-service` for agents installed from npm, and the
 * step the Linux tarball's install.sh and the Windows zip's install.ps1 call: the same unit and
 * task the packages carry (templates.ts).
 */
export const UNIT_PATH = `/etc/systemd/system/${SERVICE_NAME}.service`

export interface ServiceTarget {
  platform: NodeJS.Platform
  dataDir: string
  /** The program and arguments the service runs, before `run` / `service`. */
  exec: string[]
}

/** The service's data dir on this platform (what the packaged launchers set). */
export function defaultServiceDataDir (platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  if (platform === 'win32') return join(env.ProgramData ?? 'C:\\ProgramData', WINDOWS_DATA_SUBDIR)
  return LINUX_DATA_DIR
}

/**
 * What the service will run: the packaged launcher when this runs from a package (it sets
 * TOCDO_AGENT_LAUNCHER), else this Node and this script.
 */
export function serviceTarget ({ dataDir, env = process.env, platform = process.platform }: { dataDir?: string, env?: NodeJS.ProcessEnv, platform?: NodeJS.Platform } = {}): ServiceTarget {
  const script = realpathSync(process.argv[1] ?? '')
  const exec = platform !== 'win32' && env.TOCDO_AGENT_LAUNCHER !== undefined ? [env.TOCDO_AGENT_LAUNCHER] : [process.execPath, script]
  return { platform, dataDir: dataDir ?? env.TOCDO_AGENT_DATA_DIR ?? defaultServiceDataDir(platform, env), exec }
}

/** The service definition install-service would write, as text. */
export function serviceDefinition (t: ServiceTarget): string {
  if (t.platform === 'win32') return windowsTaskXml({ node: t.exec[0] ?? process.execPath, script: t.exec[1] ?? '', dataDir: t.dataDir })
  return systemdUnit({ execStart: t.exec, dataDir: t.dataDir })
}

function run (cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] })
}

function needRoot (what: string): void {
  if (process.getuid?.() !== 0) throw new TocdoError('TOCDO_ERR_FORBIDDEN', `${what} needs root: run "sudo tocdo-agent ${what}"`)
}

function chownTree (dir: string, uid: number, gid: number): void {
  chownSync(dir, uid, gid)
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) chownTree(p, uid, gid)
    else chownSync(p, uid, gid)
  }
}

function installLinux (t: ServiceTarget, log: (s: string) => void): void {
  needRoot('install-service')
  // ProtectHome=yes hides /home and /root from the service: a Node installed there (nvm) would not start.
  const hidden = t.exec.find((p) => /^\/(home|root)(\/|$)/.test(p))
  if (hidden !== undefined) {
    throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `${hidden} is under /home or /root, which the hardened service cannot see (ProtectHome=yes): install Node and tocdo system-wide (e.g. under /usr/local), or use the .deb or the tarball`)
  }
  try {
    execFileSync('getent', ['passwd', SERVICE_USER], { stdio: 'ignore' })
  } catch {
    run('useradd', ['--system', '--user-group', '--home-dir', LINUX_DATA_DIR, '--no-create-home', '--shell', '/usr/sbin/nologin', '--comment', 'tocdo measurement agent', SERVICE_USER])
    log(`created system user ${SERVICE_USER}`)
  }
  const uid = Number(execFileSync('id', ['-u', SERVICE_USER], { encoding: 'utf8' }).trim())
  const gid = Number(execFileSync('id', ['-g', SERVICE_USER], { encoding: 'utf8' }).trim())
  mkdirSync(t.dataDir, { recursive: true, mode: 0o750 })
  // Files an earlier `enroll` run as root left behind must be readable by the service user.
  chownTree(t.dataDir, uid, gid)
  writeFileSync(UNIT_PATH, serviceDefinition(t), { mode: 0o644 })
  log(`wrote ${UNIT_PATH}`)
  if (!existsSync('/run/systemd/system')) {
    log('systemd is not running here: the unit is installed; enable it with "systemctl enable --now tocdo-agent" once it is')
    return
  }
  run('systemctl', ['daemon-reload'])
  run('systemctl', ['enable', SERVICE_NAME])
  if (existsSync(join(t.dataDir, IDENTITY_FILE))) {
    run('systemctl', ['restart', SERVICE_NAME])
    log('service enabled and started')
  } else {
    log('service enabled; it starts once the agent is enrolled: tocdo-agent enroll --collector URL --code CODE && systemctl start tocdo-agent')
  }
}

function uninstallLinux (log: (s: string) => void): void {
  needRoot('uninstall-service')
  if (existsSync('/run/systemd/system')) {
    try { run('systemctl', ['disable', '--now', SERVICE_NAME]) } catch {}
  }
  rmSync(UNIT_PATH, { force: true })
  if (existsSync('/run/systemd/system')) run('systemctl', ['daemon-reload'])
  log(`removed ${UNIT_PATH}; the data in ${LINUX_DATA_DIR} and the user ${SERVICE_USER} are kept (remove them with: rm -r ${LINUX_DATA_DIR}; userdel ${SERVICE_USER})`)
}

/**
 * The data dir ACL: inheritance off, full control for Administrators, modify for LocalService,
 * nobody else (so only they can read the token).
 */
export function windowsAclArgs (dataDir: string): string[] {
  return [dataDir, '/inheritance:r', '/grant:r', `*${ADMINISTRATORS_SID}:(OI)(CI)F`, `*${LOCAL_SERVICE_SID}:(OI)(CI)M`]
}

function installWindows (t: ServiceTarget, log: (s: string) => void): void {
  mkdirSync(t.dataDir, { recursive: true })
  run('icacls', windowsAclArgs(t.dataDir))
  run('icacls', [t.dataDir, '/setowner', `*${ADMINISTRATORS_SID}`, '/T', '/C'])
  const xml = join(tmpdir(), `${SERVICE_NAME}-task.xml`)
  writeFileSync(xml, utf16le(serviceDefinition(t)))
  try { run('schtasks', ['/Create', '/TN', SERVICE_NAME, '/XML', xml, '/F']) } finally { rmSync(xml, { force: true }) }
  log(`registered the scheduled task ${SERVICE_NAME} (at boot, as LocalService)`)
  if (existsSync(join(t.dataDir, IDENTITY_FILE))) {
    run('schtasks', ['/Run', '/TN', SERVICE_NAME])
    log('service started')
  } else {
    log('it starts once the agent is enrolled: tocdo-agent enroll --collector URL --code CODE, then schtasks /Run /TN tocdo-agent')
  }
}

async function uninstallWindows (dataDir: string, log: (s: string) => void): Promise<void> {
  // A clean stop first: the supervisor sees the request and asks the agent to finish its step.
  if (existsSync(join(dataDir, LOCK_FILE))) {
    writeFileSync(join(dataDir, STOP_REQUEST_FILE), '')
    const deadline = Date.now() + 20_000
    while (existsSync(join(dataDir, LOCK_FILE)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 500))
  }
  try { run('schtasks', ['/End', '/TN', SERVICE_NAME]) } catch {}
  run('schtasks', ['/Delete', '/TN', SERVICE_NAME, '/F'])
  log(`removed the scheduled task ${SERVICE_NAME}; the data in ${dataDir} is kept`)
}

export async function installService (t: ServiceTarget, log: (s: string) => void): Promise<void> {
  if (t.platform === 'win32') installWindows(t, log)
  else if (t.platform === 'linux') installLinux(t, log)
  else throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `install-service supports Linux (systemd) and Windows (Task Scheduler), not ${t.platform}`)
}

export async function uninstallService (t: ServiceTarget, log: (s: string) => void): Promise<void> {
  if (t.platform === 'win32') await uninstallWindows(t.dataDir, log)
  else if (t.platform === 'linux') uninstallLinux(log)
  else throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `uninstall-service supports Linux and Windows, not ${t.platform}`)
}
