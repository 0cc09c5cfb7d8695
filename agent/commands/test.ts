import type { Command } from 'commander'
import { configFrom, measureOnce, serversOf, withCommon, type CommonFlags } from './common.js'
import { formatSummary } from '../summary.js'

/** `tocdo-agent test`: one measurement now, printed as a summary or as the JSON record. */
export function registerTest (program: Command): void {
  withCommon(program.command('test'))
    .description('run one measurement now and print the result')
    .option('--json', 'print the result record as JSON on stdout (nothing else)')
    .action(async (flags: CommonFlags & { json?: boolean }) => {
      const config = configFrom(flags)
      const server = serversOf(config)[0]
      if (server === undefined) throw new Error('no test server: pass --server URL (or --collector URL)')
      const live = flags.json !== true && process.stderr.isTTY
      const record = await measureOnce(config, server, live
        ? (e) => {
            if (e.phase === 'latency') process.stderr.write(`\r  latency  ${e.done}/${e.total} pings      `)
            else if (e.phase !== 'done') process.stderr.write(`\r  ${e.phase.padEnd(8)} ${e.elapsedS.toFixed(1)} s, ${e.streams} streams      `)
          }
        : undefined)
      if (live) process.stderr.write('\r\x1b[K')
      if (flags.json === true) process.stdout.write(JSON.stringify(record, null, 2) + '\n')
      else process.stdout.write(formatSummary(record) + '\n')
      if (record.status === 'failed') process.exitCode = 2
    })
}
