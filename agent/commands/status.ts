import type { Command } from 'commander'
import { execRunner } from '../platform/command.js'
import { locateDataDir } from '../service/locate.js'
import { buildStatus, formatStatus } from '../service/report.js'
import { configFrom } from './common.js'

/**
 * `tocdo-agent status`: what agency IT staff need to see at a glance: version, enrolled or
 * not, whether the service runs, last and next tests, the queue, the last error and the
 * proxy in use. Finds the installed service's data dir without flags (service/locate.ts).
 */
export function registerStatus (program: Command): void {
  program.command('status')
    .description('show version, enrolment, service state, last and next tests, queue, last error and proxy')
    .option('--data-dir <dir>', 'agent data directory (default: TOCDO_AGENT_DATA_DIR, then the installed package\'s)')
    .option('--config <file>', 'JSON config file')
    .option('--json', 'print as JSON')
    .action(async (flags: { dataDir?: string, config?: string, json?: boolean }) => {
      const located = locateDataDir({ flag: flags.dataDir })
      const settings = configFrom({ dataDir: located.dir, ...(flags.config === undefined ? {} : { config: flags.config }) })
      const report = await buildStatus({ settings, located, env: process.env, platform: process.platform, run: execRunner })
      process.stdout.write(flags.json === true ? JSON.stringify(report, null, 2) + '\n' : formatStatus(report))
    })
}
