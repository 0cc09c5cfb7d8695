import type { Command } from 'commander'
import pino from 'pino'
import { configFrom, measureOnce, serversOf, withCommon, type CommonFlags } from './common.js'
import { postResults } from '../delivery/post-results.js'
import { systemClock } from '../measure/context.js'

/** `tocdo-agent run`: measure on a schedule and deliver every result to the collector. */
export function registerRun (program: Command): void {
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
}
