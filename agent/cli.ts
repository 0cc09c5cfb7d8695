#!/usr/bin/env node
import { Command, Option } from 'commander'
import pino from 'pino'
import { loadAgentConfig, type AgentConfig } from './config.js'
import { runSpeedTest } from './measure/speed-test.js'
import { systemClock } from './measure/context.js'
import { postResults } from './delivery/post-results.js'
import { formatSummary } from './summary.js'
import { isTocdoError } from '../shared/errors.js'
import { TOCDO_VERSION } from '../shared/version.js'
import type { ResultRecord } from '../shared/schemas/result.js'

interface CommonFlags {
  config?: string
  collector?: string
  token?: string
  agentId?: string
  server?: string[]
  pings?: string
  maxSeconds?: string
  planDown?: string
  logLevel?: string
}

const num = (v: string | undefined): number | undefined => v === undefined ? undefined : Number(v)

function configFrom (flags: CommonFlags): Readonly<AgentConfig> {
  return loadAgentConfig({
    file: flags.config,
    env: process.env,
    flags: {
      collector: flags.collector,
      token: flags.token,
      agentId: flags.agentId,
      servers: flags.server,
      pings: num(flags.pings),
      maxSecondsPerDirection: num(flags.maxSeconds),
      planDownMbps: num(flags.planDown),
      logLevel: flags.logLevel
    }
  })
}

async function measureOnce (config: Readonly<AgentConfig>, server: string, onProgress?: Parameters<typeof runSpeedTest>[0]['onProgress']): Promise<ResultRecord> {
  return await runSpeedTest({
    server,
    clock: systemClock,
    expectedMbps: config.planDownMbps,
    pings: config.pings,
    maxMsPerDirection: config.maxSecondsPerDirection * 1000,
    byteCapPerDirection: config.byteCapMB * 1e6,
    context: { connectionClass: config.connectionClass, planDownMbps: config.planDownMbps, planUpMbps: config.planUpMbps },
    ...(onProgress === undefined ? {} : { onProgress })
  })
}

function serversOf (config: Readonly<AgentConfig>): string[] {
  if (config.servers.length > 0) return [...config.servers]
  if (config.collector !== null) return [config.collector]
  return []
}

function withCommon (cmd: Command): Command {
  return cmd
    .option('--config <file>', 'JSON config file (settings as in docs/agent-config.md)')
    .option('--collector <url>', 'collector URL, e.g. http://localhost:8080')
    .option('--token <token>', 'agent bearer token issued by the collector')
    .option('--agent-id <id>', 'agent id issued by the collector')
    .option('--server <url...>', 'test server URL (repeat for several); default: the collector')
    .option('--pings <n>', 'idle latency pings per test')
    .option('--max-seconds <s>', 'hard cap per direction, seconds')
    .option('--plan-down <mbps>', 'plan download speed, Mbps (picks the initial stream count)')
    .addOption(new Option('--log-level <level>').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
}

export function buildProgram (): Command {
  const program = new Command('tocdo-agent')
    .description('tocdo agent: measures this line\'s download, upload and latency and sends the results to a collector')
    .version(TOCDO_VERSION)

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

  withCommon(program.command('run'))
    .description('measure on a schedule and deliver every result to the collector')
    .option('--once', 'measure and deliver once, then exit')
    .action(async (flags: CommonFlags & { once?: boolean }) => {
      const config = configFrom(flags)
      const log = pino({ level: config.logLevel, name: 'tocdo-agent' })
      if (config.collector === null || config.token === null) {
        throw new Error('run needs --collector URL and --token TOKEN (or TOCDO_AGENT_COLLECTOR / TOCDO_AGENT_TOKEN)')
      }
      const collector = config.collector
      const token = config.token
      const stop = new AbortController()
      for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => { stop.abort() })
      while (!stop.signal.aborted) {
        const server = serversOf(config)[0] as string
        log.info({ server }, 'speed test starting')
        const record = await measureOnce(config, server)
        log.info({ resultId: record.id, status: record.status, downloadMbps: record.download?.mbps, uploadMbps: record.upload?.mbps, idleMs: record.latency?.idle?.medianMs }, 'speed test done')
        try {
          const reply = await postResults({ collector, token, records: [record] })
          log.info({ resultId: record.id, ack: reply.items[0]?.status }, 'result delivered')
        } catch (err) {
          log.error({ err, resultId: record.id }, 'delivery failed')
        }
        if (flags.once === true) break
        await systemClock.sleep(config.intervalMinutes * 60_000, stop.signal).catch(() => {})
      }
    })

  return program
}

buildProgram().parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`tocdo-agent: ${isTocdoError(err) ? err.message : err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
