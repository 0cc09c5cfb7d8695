import { Type, type Static } from '@sinclair/typebox'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { TocdoError } from '../shared/errors.js'
import { compileValidator } from '../shared/schemas/validate.js'
import { ConnectionClass, Nullable } from '../shared/schemas/common.js'
import { TASK_KINDS } from './task-kinds.js'

/**
 * Agent configuration. Precedence: built-in defaults < config file < environment (TOCDO_AGENT_*)
 * < command-line flags. Validated once and frozen; every error names the setting, where it
 * came from and what to do.
 */
const HttpUrl = Type.String({ pattern: '^https?://[^\\s/]+(/.*)?$', description: 'http:// or https:// URL' })

export const AgentConfig = Type.Object({
  collector: Nullable(HttpUrl),
  agentId: Nullable(Type.String({ minLength: 1, maxLength: 100 })),
  token: Nullable(Type.String({ minLength: 16, maxLength: 200 })),
  /** Test servers; empty means "the collector's own test endpoints". */
  servers: Type.Array(HttpUrl, { maxItems: 20 }),
  dataDir: Type.String({ minLength: 1 }),
  connectionClass: Nullable(ConnectionClass),
  planDownMbps: Nullable(Type.Number({ exclusiveMinimum: 0, maximum: 100_000 })),
  planUpMbps: Nullable(Type.Number({ exclusiveMinimum: 0, maximum: 100_000 })),
  /** Idle latency pings per test (methodology: at least 20). */
  pings: Type.Integer({ minimum: 5, maximum: 200 }),
  /** Hard cap per direction, seconds (methodology: 15). */
  maxSecondsPerDirection: Type.Number({ minimum: 2, maximum: 60 }),
  /** Per-direction byte cap, MB (10^6 bytes). */
  byteCapMB: Type.Number({ minimum: 1, maximum: 100_000 }),
  /** Unused since the scheduler (full tests per day come from the remote config); accepted so old config files still load. */
  intervalMinutes: Type.Number({ minimum: 1, maximum: 24 * 60 }),
  /** Upper bound of the random wait after start-up before any network action (RFC 7594 mass-calling), seconds. */
  startupDelayMaxS: Type.Number({ minimum: 0, maximum: 3600 }),
  /** Normal interval between syncs, seconds (jittered ±10 %; the collector's nextSyncS wins when given). */
  syncIntervalS: Type.Number({ minimum: 1, maximum: 86_400 }),
  /** Scheduled task kinds this agent runs (default all); an empty list only delivers what is stored. */
  tasks: Type.Array(Type.Union(TASK_KINDS.map((k) => Type.Literal(k))), { maxItems: TASK_KINDS.length, uniqueItems: true }),
  /** National e-services the IPv6-only readiness task reaches over IPv6 alone (docs/methodology.md §10.1). */
  ipv6OnlyServices: Type.Array(HttpUrl, { maxItems: 20 }),
  /** Sync retry back-off: uniform(base, min(cap, base × 2^n)) (fleet-protocol.md §10), seconds. */
  backoffBaseS: Type.Number({ minimum: 0.05, maximum: 3600 }),
  backoffCapS: Type.Number({ minimum: 0.05, maximum: 86_400 }),
  /** Quiet-line gate before full tests: window of one look, longest wait, thresholds. */
  gateWindowS: Type.Number({ minimum: 0.05, maximum: 60 }),
  gateMaxWaitS: Type.Number({ minimum: 0, maximum: 600 }),
  gateMaxBytesPerS: Type.Number({ minimum: 0 }),
  gateMaxCpuPct: Type.Number({ minimum: 0, maximum: 100 }),
  /** Monthly data budget for full tests, MB; null: the collector's value, else 10,000 on 4g/5g and 30,000 on fixed lines. */
  monthlyBudgetMB: Nullable(Type.Number({ minimum: 1 })),
  /** Proxy for calls to the collector: a URL (http://user:pass@host:port), "direct" for none, or null for HTTPS_PROXY/HTTP_PROXY, then on Windows the machine proxy. */
  proxy: Nullable(Type.String({ pattern: '^(direct|https?://\\S+)$', description: 'http(s)://[user:pass@]host:port or "direct"' })),
  /** Hosts reached without the proxy (NO_PROXY syntax; overrides NO_PROXY and the Windows bypass list). */
  noProxy: Nullable(Type.String({ maxLength: 2000 })),
  /** PEM file of a private CA the collector's certificate is issued by (added to the system's CAs, for collector calls and https test servers). */
  caFile: Nullable(Type.String({ minLength: 1 })),
  logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)))
}, { additionalProperties: false })
export type AgentConfig = Static<typeof AgentConfig>

export const DEFAULT_AGENT_CONFIG: AgentConfig = {
  collector: null,
  agentId: null,
  token: null,
  servers: [],
  dataDir: './data/agent',
  connectionClass: null,
  planDownMbps: null,
  planUpMbps: null,
  pings: 20,
  maxSecondsPerDirection: 15,
  byteCapMB: 2000,
  intervalMinutes: 240,
  startupDelayMaxS: 60,
  syncIntervalS: 300,
  tasks: [...TASK_KINDS],
  ipv6OnlyServices: ['https://dichvucong.gov.vn/', 'https://chinhphu.vn/'],
  backoffBaseS: 30,
  backoffCapS: 1800,
  gateWindowS: 5,
  gateMaxWaitS: 30,
  gateMaxBytesPerS: 25_000,
  gateMaxCpuPct: 30,
  monthlyBudgetMB: null,
  proxy: null,
  noProxy: null,
  caFile: null,
  logLevel: 'info'
}

const ENV: Record<string, keyof AgentConfig> = {
  TOCDO_AGENT_COLLECTOR: 'collector',
  TOCDO_AGENT_ID: 'agentId',
  TOCDO_AGENT_TOKEN: 'token',
  TOCDO_AGENT_SERVERS: 'servers',
  TOCDO_AGENT_DATA_DIR: 'dataDir',
  TOCDO_AGENT_CONNECTION_CLASS: 'connectionClass',
  TOCDO_AGENT_PLAN_DOWN_MBPS: 'planDownMbps',
  TOCDO_AGENT_PLAN_UP_MBPS: 'planUpMbps',
  TOCDO_AGENT_PINGS: 'pings',
  TOCDO_AGENT_MAX_SECONDS_PER_DIRECTION: 'maxSecondsPerDirection',
  TOCDO_AGENT_BYTE_CAP_MB: 'byteCapMB',
  TOCDO_AGENT_INTERVAL_MINUTES: 'intervalMinutes',
  TOCDO_AGENT_STARTUP_DELAY_MAX_S: 'startupDelayMaxS',
  TOCDO_AGENT_SYNC_INTERVAL_S: 'syncIntervalS',
  TOCDO_AGENT_TASKS: 'tasks',
  TOCDO_AGENT_IPV6_ONLY_SERVICES: 'ipv6OnlyServices',
  TOCDO_AGENT_BACKOFF_BASE_S: 'backoffBaseS',
  TOCDO_AGENT_BACKOFF_CAP_S: 'backoffCapS',
  TOCDO_AGENT_GATE_WINDOW_S: 'gateWindowS',
  TOCDO_AGENT_GATE_MAX_WAIT_S: 'gateMaxWaitS',
  TOCDO_AGENT_GATE_MAX_BYTES_PER_S: 'gateMaxBytesPerS',
  TOCDO_AGENT_GATE_MAX_CPU_PCT: 'gateMaxCpuPct',
  TOCDO_AGENT_MONTHLY_BUDGET_MB: 'monthlyBudgetMB',
  TOCDO_AGENT_PROXY: 'proxy',
  TOCDO_AGENT_NO_PROXY: 'noProxy',
  TOCDO_AGENT_CA_FILE: 'caFile',
  TOCDO_AGENT_LOG_LEVEL: 'logLevel'
}

const validator = compileValidator(AgentConfig)

/** Settings file read from the data dir when no other config file is named. */
export const AGENT_CONFIG_FILE = 'config.json'

function fromEnvString (key: keyof AgentConfig, raw: string): unknown {
  if (key === 'servers' || key === 'tasks' || key === 'ipv6OnlyServices') return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
  const sample = DEFAULT_AGENT_CONFIG[key]
  const numeric = ['planDownMbps', 'planUpMbps', 'pings', 'maxSecondsPerDirection', 'byteCapMB', 'intervalMinutes', 'monthlyBudgetMB']
  if (numeric.includes(key) || typeof sample === 'number') return raw.trim() === '' ? raw : Number(raw)
  return raw
}

export function loadAgentConfig ({ file, env = {}, flags = {} }: {
  file?: string | undefined
  env?: Record<string, string | undefined>
  flags?: Partial<Record<keyof AgentConfig, unknown>>
} = {}): Readonly<AgentConfig> {
  const merged: Record<string, unknown> = { ...DEFAULT_AGENT_CONFIG }
  const origin: Record<string, string> = {}
  // Without --config or TOCDO_AGENT_CONFIG, config.json in the data dir is read when present:
  // where the installers write settings such as proxy and caFile (docs/agent.md).
  const dirFirst = typeof flags.dataDir === 'string' ? flags.dataDir : env.TOCDO_AGENT_DATA_DIR ?? DEFAULT_AGENT_CONFIG.dataDir
  const configFile = file ?? env.TOCDO_AGENT_CONFIG ?? (existsSync(join(dirFirst, AGENT_CONFIG_FILE)) ? join(dirFirst, AGENT_CONFIG_FILE) : undefined)
  if (configFile !== undefined) {
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(configFile, 'utf8'))
    } catch (err) {
      throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `Cannot read agent config file ${configFile}: ${(err as Error).message}. Fix the file or pass --config with a valid JSON file.`, { cause: err })
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `Agent config file ${configFile} must hold a JSON object`)
    }
    for (const [k, v] of Object.entries(parsed)) { merged[k] = v; origin[k] = `config file ${configFile}` }
  }
  for (const [name, key] of Object.entries(ENV)) {
    const raw = env[name]
    if (raw !== undefined) { merged[key] = fromEnvString(key, raw); origin[key] = `environment variable ${name}` }
  }
  for (const [key, value] of Object.entries(flags)) {
    if (value !== undefined) { merged[key] = value; origin[key] = `flag --${key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}` }
  }
  const unknown = Object.keys(merged).filter((k) => !(k in DEFAULT_AGENT_CONFIG))
  if (unknown.length > 0) {
    throw new TocdoError('TOCDO_ERR_CONFIG_INVALID',
      `Unknown agent setting${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}" (from ${origin[k] ?? 'defaults'})`).join(', ')}; known settings: ${Object.keys(DEFAULT_AGENT_CONFIG).join(', ')}`)
  }
  if (!validator.check(merged)) {
    const problems = validator.errors(merged, 20).map((e) => {
      const key = e.field.replace(/^\//, '').split('/')[0] ?? e.field
      return `${key} (from ${origin[key] ?? 'defaults'}): ${e.message}; got ${JSON.stringify(merged[key])}`
    })
    throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `Invalid agent configuration:\n  - ${problems.join('\n  - ')}`, { details: { problems } })
  }
  return Object.freeze(merged as AgentConfig)
}
