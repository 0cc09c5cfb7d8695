import type { Command } from 'commander'
import { Option } from 'commander'
import { configFrom, serversOf, withCommon, type CommonFlags } from './common.js'
import { formatSummary } from '../summary.js'
import { readCalibration, systemClock, type ProgressEvent } from '../measure/index.js'
import { TASK_KINDS, TASKS, type ManualOptions, type TaskKind } from '../tasks.js'
import type { ResultRecord } from '../../shared/schemas/result.js'

interface TestFlags extends CommonFlags {
  json?: boolean
  kind?: TaskKind
  ipv6?: boolean
  ipv6Download?: boolean
  family?: '4' | '6'
  streams?: string
  noEarlyStop?: boolean
  direction?: 'both' | 'download' | 'upload'
}

/** A single status line on stderr, rewritten in place; only on a terminal and never with --json. */
function liveLine (): { update: (e: ProgressEvent) => void, clear: () => void } {
  const write = (s: string): void => { process.stderr.write(`\r\x1b[K${s}`) }
  return {
    update (e) {
      switch (e.phase) {
        case 'select': write(`  choosing among ${e.servers} servers…`); break
        case 'latency': write(`  idle latency  ${e.done}/${e.total} pings  (${e.server})`); break
        case 'download':
        case 'upload': write(`  ${e.phase.padEnd(8)}  ${e.elapsedS.toFixed(1).padStart(5)} s  ${e.mbps.toFixed(1).padStart(9)} Mbps  ${e.streams} streams`); break
        case 'skip': process.stderr.write(`\r\x1b[K  skipped ${e.server}: ${e.reason}\n`); break
        case 'ipv6': write('  IPv6 checks…'); break
        case 'done': break
      }
    },
    clear () { process.stderr.write('\r\x1b[K') }
  }
}

/** `tocdo-agent test`: one measurement now, printed as a summary or as the JSON record. */
export function registerTest (program: Command): void {
  withCommon(program.command('test'))
    .description('run one measurement now and print the result')
    .option('--json', 'print the result record as JSON on stdout (nothing else)')
    .addOption(new Option('--kind <kind>', `what to measure: ${TASK_KINDS.map((k) => `${k} (${TASKS[k].describe})`).join('; ')}`).choices([...TASK_KINDS]).default('speed'))
    .option('--ipv6', 'with a speed test, also run the IPv6 sub-tests against the chosen server')
    .option('--ipv6-download', 'also run the short forced-IPv6 download (implies --ipv6)')
    .addOption(new Option('--family <n>', 'force every connection to IPv4 or IPv6 (no fallback)').choices(['4', '6']))
    .option('--streams <n>', 'initial stream count (default: 2 with --plan-down 50 or less, else 8)')
    .option('--no-early-stop', 'never stop early on a fast stable link')
    .option('--no-ramp', 'keep the stream count fixed (with --streams 1: the single-stream subtest)')
    .addOption(new Option('--direction <d>', 'which directions to measure').choices(['both', 'download', 'upload']).default('both'))
    .action(async (flags: TestFlags & { earlyStop?: boolean, ramp?: boolean }) => {
      const config = configFrom(flags)
      const servers = serversOf(config)
      if (servers.length === 0) throw new Error('no test server: pass --server URL (or --collector URL)')
      const live = flags.json !== true && process.stderr.isTTY ? liveLine() : null
      const context = { connectionClass: config.connectionClass, planDownMbps: config.planDownMbps, planUpMbps: config.planUpMbps }
      const cal = await readCalibration(config.dataDir)
      const streams = flags.streams === undefined ? undefined : positiveInt(flags.streams, '--streams')
      const manual: ManualOptions = {
        directions: flags.direction === 'download' ? ['download'] : flags.direction === 'upload' ? ['upload'] : ['download', 'upload'],
        ...(streams === undefined ? {} : { streams }),
        ...(flags.ramp === false ? { maxStreams: streams ?? 1 } : {}),
        ...(flags.family === undefined ? {} : { family: Number(flags.family) as 4 | 6 }),
        ...(flags.earlyStop === false ? { earlyStop: null } : {}),
        ...(flags.ipv6Download === true ? { ipv6: 'download' as const } : flags.ipv6 === true ? { ipv6: true as const } : {}),
        ...(live === null ? {} : { onProgress: live.update })
      }
      const task = TASKS[flags.kind ?? 'speed']
      let record: ResultRecord
      try {
        record = await task.run({
          servers,
          clock: systemClock,
          context,
          maxSecondsPerDirection: config.maxSecondsPerDirection,
          byteCapPerDirection: config.byteCapMB * 1e6,
          pings: config.pings,
          expectedMbps: config.planDownMbps,
          ceiling: cal === null ? null : { downloadMbps: cal.loopbackDownloadMbps, uploadMbps: cal.loopbackUploadMbps },
          signal: new AbortController().signal,
          settings: config,
          manual
        })
      } finally {
        live?.clear()
      }
      if (flags.json === true) process.stdout.write(JSON.stringify(record) + '\n')
      else process.stdout.write(formatSummary(record) + '\n')
      if (record.status === 'failed') process.exitCode = 2
    })
}

function positiveInt (v: string, flag: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new Error(`${flag} must be a whole number from 1 to 16, got "${v}"`)
  return n
}
