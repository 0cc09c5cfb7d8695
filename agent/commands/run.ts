import type { Command } from 'commander'
import pino from 'pino'
import { TocdoError } from '../../shared/errors.js'
import type { AgentConfig } from '../config.js'
import { createAgent } from '../agent.js'
import { COLLECTOR_ROUTE_META } from '../outbox/meta-keys.js'
import { loadIdentity } from '../identity.js'
import { systemClock } from '../measure/context.js'
import { formatSummary } from '../summary.js'
import { postSync } from '../delivery/fleet-client.js'
import { collectorRoute, maskProxy } from '../delivery/proxy.js'
import { configFrom, withCommon, type CommonFlags } from './common.js'

export interface RunFlags extends CommonFlags { dataDir?: string, once?: boolean }

/** Settings for commands that own a data dir: the common flags plus --data-dir. */
export const settingsFrom = (flags: RunFlags): Readonly<AgentConfig> => configFrom(flags)

/**
 * `tocdo-agent run`: the daemon. Identity from `enroll` (or --collector/--token/--agent-id
 * for a token issued directly), then start-up delay, scheduler, outbox and sync loop until
 * SIGINT/SIGTERM. A signal only aborts waits and network calls; outbox writes are single
 * synchronous transactions, so the process never exits half-way through one.
 */
export function registerRun (program: Command): void {
  withCommon(program.command('run'))
    .description('measure on a schedule and deliver every result to the collector (the agent service)')
    .option('--data-dir <dir>', 'agent data directory (identity, outbox, remote config)')
    .option('--once', 'sync, run one full test now, store it, deliver it, then exit')
    .action(async (flags: RunFlags) => {
      const settings = settingsFrom(flags)
      const identity = loadIdentity(settings.dataDir)
      const collector = settings.collector ?? identity?.collector ?? null
      const token = settings.token ?? identity?.token ?? null
      const agentId = settings.agentId ?? identity?.agentId ?? null
      if (collector === null || token === null || agentId === null) {
        throw new TocdoError('TOCDO_ERR_NOT_ENROLLED', `no agent identity in ${settings.dataDir}: run "tocdo-agent enroll --collector URL --code CODE" first, or pass --collector, --token and --agent-id`)
      }
      const log = pino({ level: settings.logLevel, name: 'tocdo-agent', redact: ['token', '*.token', 'authorization'] })
      const route = await collectorRoute(collector, settings)
      log.info({ proxy: route.proxy === null ? 'direct' : maskProxy(route.proxy), proxySource: route.settings.source, ...(route.settings.note === undefined ? {} : { proxyNote: route.settings.note }) }, 'collector route')
      const agent = createAgent({
        dataDir: settings.dataDir,
        collector,
        token,
        agentId,
        settings,
        agency: identity?.agency ?? null,
        clock: systemClock,
        log,
        post: async (c, t, body, signal) => await postSync(c, t, body, signal, route.dispatcher)
      })
      agent.outbox.setMeta(COLLECTOR_ROUTE_META, JSON.stringify({ proxy: route.proxy === null ? null : maskProxy(route.proxy), source: route.settings.source, note: route.settings.note ?? null, at: new Date().toISOString() }))
      const stop = new AbortController()
      const onSignal = (signal: NodeJS.Signals): void => { log.info({ signal }, 'stopping after the current step'); stop.abort() }
      process.once('SIGINT', onSignal)
      process.once('SIGTERM', onSignal)
      // Under the Windows supervisor (tocdo-agent service) a stop arrives over IPC: there,
      // kill() would end the process without letting it finish its step.
      const onMessage = (m: unknown): void => { if (m === 'stop') onSignal('SIGTERM') }
      if (process.send !== undefined) process.on('message', onMessage)
      try {
        if (flags.once === true) {
          const { record, step } = await agent.once(stop.signal)
          if (record !== null) process.stdout.write(formatSummary(record) + '\n')
          const q = agent.outbox.stats()
          process.stdout.write(`delivery: ${step.status === 200 ? 'ok' : `not delivered (${step.status}, ${step.action})`}; ${q.pending} results waiting, ${q.dead} dead letters\n`)
          if (step.status !== 200) process.exitCode = 3
          else if (record?.status === 'failed') process.exitCode = 2
        } else {
          const outcome = await agent.run(stop.signal)
          if (outcome === 'decommissioned') process.stderr.write('tocdo-agent: decommissioned by the collector; not measuring. Stored results are kept: see "tocdo-agent status".\n')
        }
      } finally {
        agent.close()
        log.info('stopped')
        process.off('message', onMessage)
        if (process.connected) process.disconnect()
        // Idle keep-alive sockets must not hold a stopping service open.
        setTimeout(() => { process.exit() }, 2000).unref()
      }
    })
}
