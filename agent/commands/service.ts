import { spawn } from 'node:child_process'
import type { Command } from 'commander'
import { installService, serviceDefinition, serviceTarget, uninstallService } from '../service/install.js'
import { RotatingLog } from '../service/rotating-log.js'
import { supervise } from '../service/supervisor.js'
import { join } from 'node:path'

interface ServiceFlags { dataDir?: string, print?: boolean }

const say = (s: string): void => { process.stdout.write(`tocdo-agent: ${s}\n`) }

/**
 * `install-service` / `uninstall-service` (systemd unit on Linux, Task Scheduler task on
 * Windows, both from agent/service/templates.ts) and `service`, the supervisor the Windows
 * task runs.
 */
export function registerService (program: Command): void {
  program.command('install-service')
    .description('install the agent as a service that starts at boot (systemd on Linux, Task Scheduler on Windows); needs root / administrator')
    .option('--data-dir <dir>', 'the service\'s data directory (default: /var/lib/tocdo-agent, or %ProgramData%\\tocdo on Windows)')
    .option('--print', 'print the unit or task definition instead of installing it')
    .action(async (flags: ServiceFlags) => {
      const target = serviceTarget({ dataDir: flags.dataDir })
      if (flags.print === true) { process.stdout.write(serviceDefinition(target)); return }
      await installService(target, say)
    })

  program.command('uninstall-service')
    .description('stop and remove the service; the data directory is kept')
    .option('--data-dir <dir>', 'the service\'s data directory')
    .action(async (flags: ServiceFlags) => { await uninstallService(serviceTarget({ dataDir: flags.dataDir }), say) })

  program.command('service')
    .description('run the agent under a supervisor that restarts it after a failure and rotates its log (what the Windows task runs)')
    .requiredOption('--data-dir <dir>', 'agent data directory')
    .action(async (flags: { dataDir: string }) => {
      const log = new RotatingLog(join(flags.dataDir, 'logs'))
      const stop = new AbortController()
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGBREAK'] as const) process.once(sig, () => { stop.abort() })
      const script = process.argv[1] ?? ''
      try {
        process.exitCode = await supervise({
          dataDir: flags.dataDir,
          signal: stop.signal,
          write: (d) => { log.write(d) },
          start: () => spawn(process.execPath, [...process.execArgv, script, 'run', '--data-dir', flags.dataDir], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], windowsHide: true })
        })
      } finally {
        log.close()
      }
    })
}
