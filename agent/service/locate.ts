import { existsSync } from 'node:fs'
import { join, win32 } from 'node:path'
import { DEFAULT_AGENT_CONFIG } from '../config.js'
import { powershell, type CommandRunner } from '../platform/command.js'

/**
 * Where an installed agent keeps its data, and whether its service runs, so `status` and
 * `doctor` work with no flags (docs/agent.md). The packages install the service as
 * `tocdo-agent` (systemd unit tocdo-agent.service; Windows scheduled task tocdo-agent) with
 * its data in /var/lib/tocdo-agent or %ProgramData%\tocdo.
 */
export const SERVICE_NAME = 'tocdo-agent'

export function packagedDataDir (platform: NodeJS.Platform, env: Record<string, string | undefined>): string | null {
  if (platform === 'win32') return win32.join(env.ProgramData ?? env.PROGRAMDATA ?? 'C:\\ProgramData', 'tocdo')
  if (platform === 'linux') return '/var/lib/tocdo-agent'
  return null
}

export interface LocatedDataDir { dir: string, how: string }

/** --data-dir, then TOCDO_AGENT_DATA_DIR, then the packaged location if it exists, then the default. */
export function locateDataDir ({ flag, env = process.env, platform = process.platform, exists = existsSync }: {
  flag?: string | undefined
  env?: Record<string, string | undefined>
  platform?: NodeJS.Platform
  exists?: (path: string) => boolean
} = {}): LocatedDataDir {
  if (flag !== undefined) return { dir: flag, how: '--data-dir' }
  const fromEnv = env.TOCDO_AGENT_DATA_DIR
  if (fromEnv !== undefined && fromEnv !== '') return { dir: fromEnv, how: 'TOCDO_AGENT_DATA_DIR' }
  const packaged = packagedDataDir(platform, env)
  if (packaged !== null && exists(packaged)) return { dir: packaged, how: 'installed package' }
  return { dir: DEFAULT_AGENT_CONFIG.dataDir, how: `default (no ${packaged ?? 'packaged data dir'} here)` }
}

export type ServiceState = 'running' | 'stopped' | 'failed' | 'not installed' | 'unknown'

export interface ServiceReport { state: ServiceState, detail: string }

/**
 * Linux: `systemctl is-active tocdo-agent` (prints active, inactive, failed, activating…).
 * Windows: the scheduled task's State from PowerShell (an enumeration name, never
 * translated), else `schtasks /query`, whose status column is translated: only its
 * English "Running" is read; anything else is 'unknown'.
 */
export async function serviceState (run: CommandRunner, platform: NodeJS.Platform = process.platform): Promise<ServiceReport> {
  if (platform === 'linux') {
    const out = await run('systemctl', ['is-active', `${SERVICE_NAME}.service`])
    const word = out.stdout.trim().split('\n')[0] ?? ''
    if (word === 'active' || word === 'reloading' || word === 'activating') return { state: 'running', detail: `systemctl: ${word}` }
    if (word === 'failed') return { state: 'failed', detail: `systemctl: failed (journalctl -u ${SERVICE_NAME} shows why)` }
    if (word === 'inactive' || word === 'deactivating') {
      // is-active says inactive for units that do not exist too; is-enabled tells them apart.
      const en = await run('systemctl', ['is-enabled', `${SERVICE_NAME}.service`])
      const known = en.stdout.trim() !== '' && !/not-found|No such file/.test(en.stdout + en.stderr)
      return known ? { state: 'stopped', detail: `systemctl: ${word}` } : { state: 'not installed', detail: `no ${SERVICE_NAME}.service unit` }
    }
    const why = (out.stderr.trim() !== '' ? out.stderr : out.error ?? '').trim().split('\n')[0]?.slice(0, 120) ?? ''
    return { state: 'unknown', detail: `systemctl gave no answer (${why === '' ? 'no systemd here' : why})` }
  }
  if (platform === 'win32') {
    const [ps, args] = powershell(`(Get-ScheduledTask -TaskName '${SERVICE_NAME}' -ErrorAction Stop).State`)
    const out = await run(ps, args)
    const state = out.stdout.trim()
    if (out.code === 0 && state !== '') {
      if (state === 'Running') return { state: 'running', detail: 'scheduled task: Running' }
      if (state === 'Ready' || state === 'Disabled' || state === 'Queued') return { state: 'stopped', detail: `scheduled task: ${state}` }
      return { state: 'unknown', detail: `scheduled task: ${state}` }
    }
    if (/No MSFT_ScheduledTask objects found|ObjectNotFound/.test(out.stderr + (out.error ?? ''))) return { state: 'not installed', detail: `no scheduled task ${SERVICE_NAME}` }
    const q = await run('schtasks.exe', ['/query', '/tn', SERVICE_NAME, '/fo', 'csv', '/nh'])
    if (q.code === 0) {
      if (/"Running"/.test(q.stdout)) return { state: 'running', detail: 'schtasks: Running' }
      return { state: 'unknown', detail: `schtasks: ${q.stdout.trim().slice(0, 120)}` }
    }
    return { state: 'unknown', detail: 'neither Get-ScheduledTask nor schtasks answered' }
  }
  return { state: 'unknown', detail: `no service manager known on ${platform}` }
}

/** Files whose presence shows a data dir belongs to an agent. */
export const dataDirMarkers = (dir: string): string[] => [join(dir, 'identity.json'), join(dir, 'outbox.sqlite')]
