import { accessSync, constants, existsSync } from 'node:fs'
import { join } from 'node:path'
import { TOCDO_VERSION } from '../../shared/version.js'
import type { AgentConfig } from '../config.js'
import { COLLECTOR_ROUTE_META, LAST_TEST_META } from '../outbox/meta-keys.js'
import { maskProxy, proxyFor, resolveProxy } from '../delivery/proxy.js'
import { loadIdentity, maskToken } from '../identity.js'
import { OUTBOX_FILE, Outbox } from '../outbox/outbox.js'
import type { CommandRunner } from '../platform/command.js'
import { Scheduler } from '../scheduler/scheduler.js'
import { vnHhmm, vnMonth } from '../../shared/vn-time.js'
import { builtinConfig, fromRemote, loadRemoteConfig } from '../sync/remote-config.js'
import { monthlyBudgetBytes } from '../scheduler/budget.js'
import { serviceState, type LocatedDataDir, type ServiceReport } from './locate.js'

const mbOf = (bytes: number | null): number | null => bytes === null ? null : Math.round(bytes / 1e6)

/**
 * Everything `tocdo-agent status` and `doctor` print, read from the data dir only (safe while
 * the service runs) plus the service manager's answer.
 */
export interface LastTest { kind: string, status: string, at: string, downMbps: number | null, upMbps: number | null, flags: string[], error: string | null }

export interface StatusReport {
  version: string
  dataDir: string
  dataDirFoundBy: string
  /** Why the data dir cannot be read (permissions), or null. */
  dataDirProblem: string | null
  enrolled: boolean
  agentId: string | null
  collector: string | null
  token: string | null
  agency: string | null
  state: string
  upgradeRequired: boolean
  configVersion: number | null
  configProblem: string | null
  configRejected: string | null
  lastSyncAt: string | null
  lastSyncError: string | null
  lastTest: LastTest | null
  queue: { pending: number, oldestAgeS: number | null, dead: number, bytes: number }
  counters: Record<string, number> | null
  deadLetters: Array<{ seq: number, kind: string, status: string, reason: string, field: string | null }>
  /** budgetMB null: data is not metered, so no monthly budget applies. */
  budget: { month: string, usedMB: number, tests: number, budgetMB: number | null }
  nextSlots: Array<{ kind: string, at: string, local: string }>
  /** The route the running service recorded at start; else what this process would use. */
  proxy: { proxy: string | null, source: string, note: string | null, recordedByService: boolean }
  service: ServiceReport
}

function parseJson<T> (text: string | null): T | null {
  if (text === null) return null
  try { return JSON.parse(text) as T } catch { return null }
}

export async function buildStatus ({ settings, located, env, platform, run, now = Date.now() }: {
  settings: Readonly<AgentConfig>
  located: LocatedDataDir
  env: Record<string, string | undefined>
  platform: NodeJS.Platform
  run: CommandRunner
  now?: number
}): Promise<StatusReport> {
  const dir = settings.dataDir
  let dataDirProblem: string | null = null
  if (existsSync(dir)) {
    try { accessSync(dir, constants.R_OK | constants.X_OK); if (existsSync(join(dir, 'identity.json'))) accessSync(join(dir, 'identity.json'), constants.R_OK) } catch (err) {
      dataDirProblem = `cannot read ${dir} (${(err as NodeJS.ErrnoException).code ?? 'error'}): run as ${platform === 'win32' ? 'Administrator' : 'root (sudo tocdo-agent status)'}`
    }
  } else dataDirProblem = `${dir} does not exist: the agent was never enrolled here (found by ${located.how})`
  const readable = dataDirProblem === null
  const identity = readable ? loadIdentity(dir) : null
  const remote = readable ? loadRemoteConfig(dir) : { config: null, problem: null }
  const cfg = remote.config === null ? builtinConfig(settings.maxSecondsPerDirection) : fromRemote(remote.config)
  const agentId = settings.agentId ?? identity?.agentId ?? null
  const collector = settings.collector ?? identity?.collector ?? null
  const outbox = readable && existsSync(join(dir, OUTBOX_FILE)) ? new Outbox(dir) : null
  try {
    const queue = outbox?.stats() ?? { pending: 0, oldestAgeS: null, dead: 0, bytes: 0 }
    const month = vnMonth(now)
    const usage = outbox?.usage(month) ?? { bytes: 0, tests: 0 }
    const connectionClass = settings.connectionClass ?? identity?.agency?.connectionClass ?? null
    const next = agentId === null
      ? []
      : new Scheduler({ agentId, clock: { wall: () => now, mono: () => 0, sleep: async () => {} }, random: () => 0, schedule: () => cfg.schedule, execute: async () => {} }).upcoming()
    const recorded = parseJson<{ proxy: string | null, source: string, note: string | null }>(outbox?.getMeta(COLLECTOR_ROUTE_META) ?? null)
    let proxy: StatusReport['proxy']
    if (recorded !== null) proxy = { ...recorded, recordedByService: true }
    else {
      const p = await resolveProxy({ proxy: settings.proxy, noProxy: settings.noProxy, env, platform, run })
      const used = collector === null ? (p.https ?? p.http) : proxyFor(collector, p)
      proxy = { proxy: used === null ? null : maskProxy(used), source: p.source, note: p.note ?? null, recordedByService: false }
    }
    return {
      version: TOCDO_VERSION,
      dataDir: dir,
      dataDirFoundBy: located.how,
      dataDirProblem,
      enrolled: identity !== null || (settings.token !== null && agentId !== null && collector !== null),
      agentId,
      collector,
      token: identity !== null ? maskToken(identity.token) : settings.token !== null ? maskToken(settings.token) : null,
      agency: identity?.agency?.name ?? null,
      state: outbox?.getMeta('fleetState') ?? 'active',
      upgradeRequired: outbox?.getMeta('upgradeRequiredSince') != null,
      configVersion: cfg.version,
      configProblem: remote.problem,
      configRejected: outbox?.getMeta('configRejected') ?? null,
      lastSyncAt: outbox?.getMeta('lastSyncAt') ?? null,
      lastSyncError: outbox?.getMeta('lastSyncError') ?? null,
      lastTest: parseJson<LastTest>(outbox?.getMeta(LAST_TEST_META) ?? null),
      queue,
      counters: outbox?.counters() ?? null,
      deadLetters: (outbox?.deadLetters(5) ?? []).map((d) => ({ seq: d.seq, kind: d.kind, status: d.status, reason: d.reason, field: d.field })),
      budget: { month, usedMB: Math.round(usage.bytes / 1e6), tests: usage.tests, budgetMB: mbOf(monthlyBudgetBytes({ connectionClass, capMB: settings.monthlyBudgetMB ?? cfg.monthlyBudgetMB ?? null })) },
      nextSlots: next.map((e) => ({ kind: e.kind, at: new Date(e.nominalMs).toISOString(), local: vnHhmm(e.nominalMs) })),
      proxy,
      service: await serviceState(run, platform)
    }
  } finally {
    outbox?.close()
  }
}

const mbps = (v: number | null): string => v === null ? '–' : v >= 100 ? String(Math.round(v)) : v.toFixed(1)

export function formatStatus (r: StatusReport): string {
  const t = r.lastTest
  const lines = [
    `tocdo agent ${r.version}: ${r.enrolled ? `enrolled as ${r.agentId ?? '?'}` : 'NOT ENROLLED (run: tocdo-agent enroll --collector URL --code CODE)'}`,
    `  service      ${r.service.state} (${r.service.detail})`,
    `  data dir     ${r.dataDir} (found by ${r.dataDirFoundBy})${r.dataDirProblem === null ? '' : `\n               ${r.dataDirProblem}`}`,
    `  collector    ${r.collector ?? 'n/a'}   token ${r.token ?? 'n/a'}`,
    `  proxy        ${r.proxy.proxy ?? 'none (direct)'} (${r.proxy.source}${r.proxy.recordedByService ? ', as the service uses it' : ''})${r.proxy.note === null ? '' : `; ${r.proxy.note}`}`,
    `  agency       ${r.agency ?? 'n/a'}`,
    `  state        ${r.state}${r.upgradeRequired ? ' (collector needs a newer agent: upgrade required)' : ''}`,
    `  config       ${r.configVersion === null ? 'built-in default' : `version ${r.configVersion}`}${r.configProblem !== null ? ` (${r.configProblem})` : ''}${r.configRejected !== null ? `; last refused: ${r.configRejected}` : ''}`,
    `  last test    ${t === null ? 'none yet' : `${t.at} ${t.kind} ${t.status}${t.kind === 'speed' ? `, ${mbps(t.downMbps)}/${mbps(t.upMbps)} Mbps down/up` : ''}${t.flags.length > 0 ? ` [${t.flags.join(', ')}]` : ''}${t.error === null ? '' : `; ${t.error}`}`}`,
    `  next tests   ${r.nextSlots.map((s) => `${s.kind} ${s.local}`).join(', ') || 'n/a'} (local time, each + a random spread)`,
    `  last sync    ${r.lastSyncAt ?? 'never'}`,
    `  last error   ${r.lastSyncError ?? 'none'}`,
    `  queue        ${r.queue.pending} waiting (${r.queue.bytes} bytes, oldest ${r.queue.oldestAgeS === null ? 'n/a' : `${r.queue.oldestAgeS} s`}), ${r.queue.dead} dead letters`,
    `  counters     ${r.counters === null ? 'n/a' : Object.entries(r.counters).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    r.budget.budgetMB === null
      ? `  data used    ${r.budget.usedMB} MB in ${r.budget.month} (${r.budget.tests} full tests; not metered, no monthly budget)`
      : `  data budget  ${r.budget.usedMB} MB of ${r.budget.budgetMB} MB in ${r.budget.month} (${r.budget.tests} full tests)`
  ]
  for (const d of r.deadLetters) lines.push(`  dead         #${d.seq} ${d.kind} ${d.status}: ${d.reason}${d.field !== null ? ` (${d.field})` : ''}`)
  return lines.join('\n') + '\n'
}
