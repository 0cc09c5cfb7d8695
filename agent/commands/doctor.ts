import type { Command } from 'commander'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { PATHS } from '../../shared/protocol.js'
import { collectorRoute, maskProxy } from '../delivery/proxy.js'
import { OUTBOX_FILE, Outbox } from '../outbox/outbox.js'
import { execRunner } from '../platform/command.js'
import { readInterfaceCounters } from '../platform/net-counters.js'
import { locateDataDir } from '../service/locate.js'
import { buildStatus, formatStatus } from '../service/report.js'
import { configFrom } from './common.js'

type Verdict = 'ok' | 'warn' | 'fail'
interface Check { name: string, verdict: Verdict, detail: string }

const MARK: Record<Verdict, string> = { ok: '[ok]  ', warn: '[warn]', fail: '[FAIL]' }

/**
 * `tocdo-agent doctor`: the status, then each thing the agent needs checked live, with what
 * to do when one fails: data dir, enrolment, service, the collector reached through the
 * same proxy and CA the service uses, the outbox database, the interface counters.
 * Exit code 1 when a check fails.
 */
export function registerDoctor (program: Command): void {
  program.command('doctor')
    .description('check the installation: data dir, enrolment, service, collector reachable (through the proxy), outbox, counters')
    .option('--data-dir <dir>', 'agent data directory (default: TOCDO_AGENT_DATA_DIR, then the installed package\'s)')
    .option('--config <file>', 'JSON config file')
    .option('--json', 'print as JSON')
    .action(async (flags: { dataDir?: string, config?: string, json?: boolean }) => {
      const located = locateDataDir({ flag: flags.dataDir })
      const checks: Check[] = []
      const settings = configFrom({ dataDir: located.dir, ...(flags.config === undefined ? {} : { config: flags.config }) })
      const report = await buildStatus({ settings, located, env: process.env, platform: process.platform, run: execRunner })
      checks.push(report.dataDirProblem === null
        ? { name: 'data dir', verdict: 'ok', detail: `${report.dataDir} (${report.dataDirFoundBy})` }
        : { name: 'data dir', verdict: 'fail', detail: report.dataDirProblem })
      checks.push(report.enrolled
        ? { name: 'enrolment', verdict: 'ok', detail: `agent ${report.agentId ?? '?'} with ${report.collector ?? '?'}` }
        : { name: 'enrolment', verdict: 'fail', detail: 'not enrolled: run tocdo-agent enroll --collector URL --code CODE (as the service user, or sudo)' })
      checks.push({
        name: 'service',
        verdict: report.service.state === 'running' ? 'ok' : report.service.state === 'unknown' ? 'warn' : 'fail',
        detail: `${report.service.state} (${report.service.detail})`
      })
      if (report.collector !== null) {
        const route = await collectorRoute(report.collector, settings)
        const via = route.proxy === null ? 'direct' : `through ${maskProxy(route.proxy)} (${route.settings.source})`
        const t0 = performance.now()
        try {
          const res = await request(new URL(PATHS.health, report.collector), { dispatcher: route.dispatcher, headersTimeout: 15_000, bodyTimeout: 15_000, signal: AbortSignal.timeout(20_000) })
          await res.body.text()
          const ms = Math.round(performance.now() - t0)
          checks.push({ name: 'collector', verdict: res.statusCode === 200 ? 'ok' : 'fail', detail: `${report.collector} answered ${res.statusCode} in ${ms} ms, ${via}` })
        } catch (err) {
          checks.push({ name: 'collector', verdict: 'fail', detail: `${report.collector} not reachable ${via}: ${err instanceof Error ? err.message : String(err)}; check the proxy setting, NO_PROXY, caFile and the firewall (docs/agent.md)` })
        } finally {
          await route.dispatcher.close()
        }
      }
      if (report.dataDirProblem === null && existsSync(join(report.dataDir, OUTBOX_FILE))) {
        const outbox = new Outbox(report.dataDir)
        try {
          const integrity = outbox.integrityCheck()
          checks.push({ name: 'outbox', verdict: integrity === 'ok' ? 'ok' : 'fail', detail: integrity === 'ok' ? `${report.queue.pending} waiting, ${report.queue.dead} dead letters` : `integrity check: ${integrity}` })
        } finally { outbox.close() }
      }
      if (report.queue.dead > 0) checks.push({ name: 'dead letters', verdict: 'warn', detail: `${report.queue.dead} results the collector refused: see tocdo-agent status` })
      if (report.queue.oldestAgeS !== null && report.queue.oldestAgeS > 86_400) checks.push({ name: 'delivery', verdict: 'warn', detail: `oldest waiting result is ${Math.round(report.queue.oldestAgeS / 3600)} h old; last error: ${report.lastSyncError ?? 'none'}` })
      const counters = await readInterfaceCounters()
      checks.push(counters.source === 'unavailable'
        ? { name: 'counters', verdict: 'warn', detail: `${counters.reason ?? 'unavailable'}: results carry no cross-traffic check` }
        : { name: 'counters', verdict: 'ok', detail: `${counters.source}, ${Object.keys(counters.ifaces).length} interfaces` })
      if (flags.json === true) process.stdout.write(JSON.stringify({ report, checks }, null, 2) + '\n')
      else process.stdout.write(formatStatus(report) + '\n' + checks.map((c) => `${MARK[c.verdict]} ${c.name.padEnd(12)} ${c.detail}`).join('\n') + '\n')
      if (checks.some((c) => c.verdict === 'fail')) process.exitCode = 1
    })
}
