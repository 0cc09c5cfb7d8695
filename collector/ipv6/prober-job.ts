import fp from 'fastify-plugin'
import { readFileSync } from 'node:fs'
import { getServers } from 'node:dns'
import type { Logger } from 'pino'
import type { CollectorConfig } from '../config.js'
import type { Leadership } from '../storage/stores.js'
import { TocdoError } from '../../shared/errors.js'
import { dnsQuery, parseServer } from './dns-client.js'
import { httpsStatus, smtpProbe } from './net-probes.js'
import type { ProbeContext } from './checks.js'
import { runProbeCycle, startProbeScheduler } from './prober.js'

/** The prober's I/O, from the validated configuration. */
export function probeContextFromConfig (config: Readonly<CollectorConfig>): ProbeContext {
  const resolverText = config.ipv6ProbeResolver !== '' ? config.ipv6ProbeResolver : getServers()[0]
  if (resolverText === undefined) throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', 'ipv6ProbeResolver is empty and the system has no resolver; set TOCDO_IPV6_PROBE_RESOLVER')
  let ca: string | undefined
  if (config.ipv6ProbeCaFile !== '') {
    try {
      ca = readFileSync(config.ipv6ProbeCaFile, 'utf8')
    } catch (cause) {
      throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `ipv6ProbeCaFile: cannot read ${config.ipv6ProbeCaFile}`, { cause })
    }
  }
  return {
    query: dnsQuery,
    resolver: parseServer(resolverText),
    timeoutMs: config.ipv6ProbeTimeoutMs,
    dnsPort: 53,
    httpsPort: 443,
    smtpPort: 25,
    smtp: config.ipv6ProbeSmtp,
    ca,
    addressPolicy: 'global',
    heloName: 'tocdo-ipv6-prober.invalid',
    https: httpsStatus,
    smtpProbe,
    nowS: () => Math.floor(Date.now() / 1000)
  }
}

/**
 * The scheduled IPv6 service prober, a background job of the collector (collector/app.ts):
 * a cycle every `ipv6ProbeIntervalMin` minutes (0: never), started when the server is ready
 * and this collector leads the fleet's once-only work (`leadership`; always with SQLite), and
 * stopped when it closes. A collector that stops leading skips its cycles.
 */
export const ipv6ProberJob = fp<{ config: Readonly<CollectorConfig>, probe?: ProbeContext, leadership?: Leadership }>(async (fastify, opts) => {
  const { config } = opts
  if (config.ipv6ProbeIntervalMin <= 0) return
  const log = fastify.log.child({ component: 'ipv6-prober' }) as unknown as Logger
  let scheduler: ReturnType<typeof startProbeScheduler> | null = null
  let closing = false
  fastify.addHook('onReady', async () => {
    // Built now, so a bad resolver or CA file fails the start, not the first run six hours later.
    const context = opts.probe ?? probeContextFromConfig(config)
    const leadership = opts.leadership ?? { leads: true, onLead: (fn: () => void) => { fn() } }
    const run = async (): ReturnType<typeof runProbeCycle> => {
      if (!leadership.leads) return { probed: 0, failed: [] }
      return await runProbeCycle(fastify.stores.ipv6, context, { concurrency: config.ipv6ProbeConcurrency, log })
    }
    leadership.onLead(() => {
      if (closing) return
      scheduler ??= startProbeScheduler(run, { intervalMs: config.ipv6ProbeIntervalMin * 60_000, log })
    })
  })
  fastify.addHook('onClose', async () => { closing = true; scheduler?.stop() })
}, { name: 'ipv6-prober-job' })
