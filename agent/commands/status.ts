import type { Command } from 'commander'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { OUTBOX_FILE, Outbox } from '../outbox/outbox.js'
import { loadIdentity, maskToken } from '../identity.js'
import { Scheduler } from '../scheduler/scheduler.js'
import { localHhmm, localMonth } from '../scheduler/local-time.js'
import { builtinConfig, defaultBudgetMB, fromRemote, loadRemoteConfig } from '../sync/remote-config.js'
import { settingsFrom } from './run.js'

/**
 * `tocdo-agent status`: what agency IT staff need to see at a glance: who this agent is,
 * whether results are getting through, what is stuck, and when the next tests run. Reads the
 * data dir only; safe while the service runs.
 */
export function registerStatus (program: Command): void {
  program.command('status')
    .description('show identity, queue, dead letters, last sync and next slots')
    .option('--data-dir <dir>', 'agent data directory')
    .option('--config <file>', 'JSON config file')
    .option('--json', 'print as JSON')
    .action((flags: { dataDir?: string, config?: string, json?: boolean }) => {
      const settings = settingsFrom({ ...(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }), ...(flags.config === undefined ? {} : { config: flags.config }) })
      const dir = settings.dataDir
      const identity = loadIdentity(dir)
      const remote = loadRemoteConfig(dir)
      const cfg = remote.config === null ? builtinConfig(settings.maxSecondsPerDirection) : fromRemote(remote.config)
      const agentId = settings.agentId ?? identity?.agentId ?? null
      const hasOutbox = existsSync(join(dir, OUTBOX_FILE))
      const outbox = hasOutbox ? new Outbox(dir) : null
      try {
        const now = Date.now()
        const queue = outbox?.stats() ?? { pending: 0, oldestAgeS: null, dead: 0, bytes: 0 }
        const month = localMonth(now)
        const usage = outbox?.usage(month) ?? { bytes: 0, tests: 0 }
        const connectionClass = settings.connectionClass ?? identity?.agency?.connectionClass ?? null
        const next = agentId === null
          ? []
          : new Scheduler({ agentId, clock: { wall: () => now, mono: () => 0, sleep: async () => {} }, random: () => 0, schedule: () => cfg.schedule, execute: async () => {} }).upcoming()
        const report = {
          dataDir: dir,
          agentId,
          collector: settings.collector ?? identity?.collector ?? null,
          token: identity !== null ? maskToken(identity.token) : settings.token !== null ? maskToken(settings.token) : null,
          agency: identity?.agency?.name ?? null,
          state: outbox?.getMeta('fleetState') ?? 'active',
          upgradeRequired: outbox?.getMeta('upgradeRequiredSince') != null,
          configVersion: cfg.version,
          configProblem: remote.problem,
          configRejected: outbox?.getMeta('configRejected') ?? null,
          lastSyncAt: outbox?.getMeta('lastSyncAt') ?? null,
          lastSyncError: outbox?.getMeta('lastSyncError') ?? null,
          queue,
          counters: outbox?.counters() ?? null,
          deadLetters: outbox?.deadLetters(5) ?? [],
          budget: { month, usedMB: Math.round(usage.bytes / 1e6), tests: usage.tests, budgetMB: settings.monthlyBudgetMB ?? cfg.monthlyBudgetMB ?? defaultBudgetMB(connectionClass) },
          nextSlots: next.map((e) => ({ kind: e.kind, at: new Date(e.nominalMs).toISOString(), local: localHhmm(e.nominalMs) }))
        }
        if (flags.json === true) { process.stdout.write(JSON.stringify(report, null, 2) + '\n'); return }
        const lines = [
          `tocdo agent ${report.agentId ?? '(not enrolled: run tocdo-agent enroll)'}`,
          `  collector    ${report.collector ?? 'n/a'}   token ${report.token ?? 'n/a'}`,
          `  agency       ${report.agency ?? 'n/a'}`,
          `  state        ${report.state}${report.upgradeRequired ? ' (collector needs a newer agent: upgrade required)' : ''}`,
          `  config       ${report.configVersion === null ? 'built-in default' : `version ${report.configVersion}`}${report.configProblem !== null ? ` (${report.configProblem})` : ''}${report.configRejected !== null ? `; last refused: ${report.configRejected}` : ''}`,
          `  last sync    ${report.lastSyncAt ?? 'never'}${report.lastSyncError !== null ? `   last error: ${report.lastSyncError}` : ''}`,
          `  queue        ${queue.pending} waiting (${queue.bytes} bytes, oldest ${queue.oldestAgeS === null ? 'n/a' : `${queue.oldestAgeS} s`}), ${queue.dead} dead letters`,
          `  counters     ${report.counters === null ? 'n/a' : Object.entries(report.counters).map(([k, v]) => `${k} ${v}`).join(', ')}`,
          `  data budget  ${report.budget.usedMB} MB of ${report.budget.budgetMB} MB in ${month} (${usage.tests} full tests)`,
          `  next slots   ${report.nextSlots.map((s) => `${s.kind} ${s.local}`).join(', ') || 'n/a'} (local time, each + a random spread)`
        ]
        for (const d of report.deadLetters) lines.push(`  dead         #${d.seq} ${d.kind} ${d.status}: ${d.reason}${d.field !== null ? ` (${d.field})` : ''}`)
        process.stdout.write(lines.join('\n') + '\n')
      } finally {
        outbox?.close()
      }
    })
}
