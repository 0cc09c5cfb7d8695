import { isIP } from 'node:net'
import { Type, type Static } from '@sinclair/typebox'
import { TocdoError } from '../shared/errors.js'
import { compileValidator } from '../shared/schemas/validate.js'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from './paths.js'
import { databaseUrlProblem, redactDatabaseUrl } from './storage/database-url.js'

/**
 * Collector configuration: defaults here, overridden by environment (TOCDO_*) and then by
 * CLI flags; validated once at start and frozen. Nothing else reads process.env.
 */
export const CollectorConfig = Type.Object({
  host: Type.String({ minLength: 1 }),
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  /** Directory for the SQLite database; created if missing. */
  dataDir: Type.String({ minLength: 1 }),
  /**
   * PostgreSQL instead of SQLite (docs/storage.md): postgres://user:password@host:port/database;
   * '' = the embedded SQLite store in dataDir. Never logged or printed with its password.
   */
  databaseUrl: Type.String({ maxLength: 2000 }),
  logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
  /** Serve only the speed-test endpoints, with no database (a standalone test server). */
  speedtestOnly: Type.Boolean(),
  /** Concurrent speed tests admitted before answering 503 (methodology.md §3). */
  maxConcurrentTests: Type.Integer({ minimum: 1, maximum: 10_000 }),
  /** Retry-After sent with a 503 when the test server is full, seconds. */
  busyRetryAfterS: Type.Integer({ minimum: 1, maximum: 3600 }),
  /** Request body limit for result uploads, bytes (decoded). */
  bodyLimitBytes: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024 }),
  /** Create a demo agency and agent at start (the README's first command). */
  demo: Type.Boolean(),
  /** The database holds generated sample data (collector/sample-data.ts): filled at first start, marked "Dữ liệu mẫu" everywhere. */
  sampleData: Type.Boolean(),
  /** The owning department as the dashboard and reports print it (TOCDO_DEPARTMENT_NAME); per deployment, never hard-coded (domain.md §1). */
  departmentName: Type.String({ maxLength: 200 }),
  /**
   * Admin bearer token; empty = generate one at first start (256 bits), print it once, keep only
   * its hash. A configured one must hold at least 128 bits (22 base64url characters or 32 hex).
   */
  adminToken: Type.Union([Type.Literal(''), Type.String({ minLength: 22, maxLength: 200 })]),
  /** Reverse proxies whose X-Forwarded-For is believed: comma-separated addresses or CIDRs ('' = none; docs/operations.md). */
  trustProxy: Type.String({ maxLength: 2000 }),
  /** Serve HTTPS with this PEM certificate (chain) and key; both or neither. Reloaded when the files change or on SIGHUP. */
  tlsCertFile: Type.String({ maxLength: 500 }),
  tlsKeyFile: Type.String({ maxLength: 500 }),
  /** On SIGTERM, how long requests already received may take to finish before connections are cut, s. */
  shutdownGraceS: Type.Integer({ minimum: 0, maximum: 600 }),
  /** Raw results measured longer ago than this are deleted (rollups and reports keep them), days; 0 = keep forever. */
  retentionDays: Type.Integer({ minimum: 0, maximum: 36_500 }),
  /** Rows deleted per retention transaction, so ingest is never held up for long. */
  retentionBatchRows: Type.Integer({ minimum: 1, maximum: 100_000 }),
  /** Base URL agents reach this collector at; the default remote config's test server. */
  publicUrl: Type.String({ pattern: '^https?://[^\\s/?#]+[^\\s]*$' }),
  /** Agent packages served at /downloads (what `npm run package` builds: manifest.json, SHA256SUMS, the packages); default the repository's dist/packages. */
  packagesDir: Type.String({ minLength: 1 }),
  /** Enrolment attempts per source IP per minute (fleet-protocol.md §8). */
  enrolRateLimitPerMin: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  /** Syncs (and result posts) per agent per window before 429. */
  syncRateLimitMax: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  syncRateLimitWindowS: Type.Integer({ minimum: 1, maximum: 86_400 }),
  /** Group commit: items from concurrent requests are committed together this often, ms… */
  commitIntervalMs: Type.Integer({ minimum: 1, maximum: 5000 }),
  /** …or as soon as this many rows are queued. */
  commitMaxRows: Type.Integer({ minimum: 1, maximum: 100_000 }),
  /** Write-queue bound: past this many queued rows (or the oldest older than ingestQueueMaxAgeMs) answer 503. */
  ingestQueueMaxRows: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  ingestQueueMaxAgeMs: Type.Integer({ minimum: 10, maximum: 600_000 }),
  /** Interval the sync reply asks agents to wait before the next sync, s. */
  nextSyncS: Type.Integer({ minimum: 10, maximum: 86_400 }),
  /** IPv6 service prober (docs/ipv6-report.md): minutes between runs, ±10 % jitter; 0 = off. */
  ipv6ProbeIntervalMin: Type.Integer({ minimum: 0, maximum: 10_080 }),
  /** Recursive resolver for the prober: "host", "host:port" or "[v6]:port"; '' = the system's first resolver. */
  ipv6ProbeResolver: Type.String({ maxLength: 100 }),
  /** Per DNS query and per connection of the prober, ms. */
  ipv6ProbeTimeoutMs: Type.Integer({ minimum: 100, maximum: 60_000 }),
  /** Agencies probed at once. */
  ipv6ProbeConcurrency: Type.Integer({ minimum: 1, maximum: 64 }),
  /** Open SMTP (port 25) to MX hosts over IPv6; many networks block outbound port 25. */
  ipv6ProbeSmtp: Type.Boolean(),
  /** Extra CA bundle (PEM file) trusted by the HTTPS-over-IPv6 check besides the system roots; '' = none. */
  ipv6ProbeCaFile: Type.String({ maxLength: 500 }),
  /** Reports publish an i-Speed-style figure (mean, median, P20 of representative samples) from this many samples (docs/reports.md §2). */
  reportMinRepresentativeSamples: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  /** Reports publish a cross-agent figure (median of medians, 80/80, target shares) from this many agents. */
  reportMinAgents: Type.Integer({ minimum: 1, maximum: 100_000 }),
  /** An agent enters the busy-hour 80/80 figure with this many office-hours samples. */
  reportMinBusyHourSamplesPerAgent: Type.Integer({ minimum: 1, maximum: 100_000 })
}, { additionalProperties: false })
export type CollectorConfig = Static<typeof CollectorConfig>

export const DEFAULT_COLLECTOR_CONFIG: CollectorConfig = {
  // 'localhost' listens on both 127.0.0.1 and ::1; use '::' to serve every interface, IPv4 and IPv6.
  host: 'localhost',
  port: 8080,
  dataDir: './data',
  databaseUrl: '',
  logLevel: 'info',
  speedtestOnly: false,
  maxConcurrentTests: 8,
  busyRetryAfterS: 30,
  bodyLimitBytes: 1024 * 1024, // Fastify's default; a 500-result batch is ≤ 512 KiB
  demo: false,
  sampleData: false,
  departmentName: '', // the dashboard then asks for TOCDO_DEPARTMENT_NAME instead of guessing
  adminToken: '',
  trustProxy: '',
  tlsCertFile: '',
  tlsKeyFile: '',
  shutdownGraceS: 10,
  retentionDays: 0,
  retentionBatchRows: 1000,
  publicUrl: 'http://localhost:8080', // follows --port unless set explicitly
  packagesDir: join(packageRoot(), 'dist', 'packages'), // may not exist yet: /install then says how to build them
  enrolRateLimitPerMin: 10,
  syncRateLimitMax: 30,
  syncRateLimitWindowS: 600,
  commitIntervalMs: 25,
  commitMaxRows: 2000,
  ingestQueueMaxRows: 20_000,
  ingestQueueMaxAgeMs: 5000,
  nextSyncS: 300,
  ipv6ProbeIntervalMin: 360,
  ipv6ProbeResolver: '',
  ipv6ProbeTimeoutMs: 5000,
  ipv6ProbeConcurrency: 4,
  ipv6ProbeSmtp: true,
  ipv6ProbeCaFile: '',
  reportMinRepresentativeSamples: 300,
  reportMinAgents: 5,
  reportMinBusyHourSamplesPerAgent: 20
}

const ENV_KEYS: Record<string, keyof CollectorConfig> = {
  TOCDO_HOST: 'host',
  TOCDO_PORT: 'port',
  TOCDO_DATA_DIR: 'dataDir',
  TOCDO_DATABASE_URL: 'databaseUrl',
  TOCDO_LOG_LEVEL: 'logLevel',
  TOCDO_SPEEDTEST_ONLY: 'speedtestOnly',
  TOCDO_MAX_CONCURRENT_TESTS: 'maxConcurrentTests',
  TOCDO_BUSY_RETRY_AFTER_S: 'busyRetryAfterS',
  TOCDO_BODY_LIMIT_BYTES: 'bodyLimitBytes',
  TOCDO_DEMO: 'demo',
  TOCDO_SAMPLE_DATA: 'sampleData',
  TOCDO_DEPARTMENT_NAME: 'departmentName',
  TOCDO_ADMIN_TOKEN: 'adminToken',
  TOCDO_TRUST_PROXY: 'trustProxy',
  TOCDO_TLS_CERT_FILE: 'tlsCertFile',
  TOCDO_TLS_KEY_FILE: 'tlsKeyFile',
  TOCDO_SHUTDOWN_GRACE_S: 'shutdownGraceS',
  TOCDO_RETENTION_DAYS: 'retentionDays',
  TOCDO_RETENTION_BATCH_ROWS: 'retentionBatchRows',
  TOCDO_PUBLIC_URL: 'publicUrl',
  TOCDO_PACKAGES_DIR: 'packagesDir',
  TOCDO_ENROL_RATE_LIMIT_PER_MIN: 'enrolRateLimitPerMin',
  TOCDO_SYNC_RATE_LIMIT_MAX: 'syncRateLimitMax',
  TOCDO_SYNC_RATE_LIMIT_WINDOW_S: 'syncRateLimitWindowS',
  TOCDO_COMMIT_INTERVAL_MS: 'commitIntervalMs',
  TOCDO_COMMIT_MAX_ROWS: 'commitMaxRows',
  TOCDO_INGEST_QUEUE_MAX_ROWS: 'ingestQueueMaxRows',
  TOCDO_INGEST_QUEUE_MAX_AGE_MS: 'ingestQueueMaxAgeMs',
  TOCDO_NEXT_SYNC_S: 'nextSyncS',
  TOCDO_IPV6_PROBE_INTERVAL_MIN: 'ipv6ProbeIntervalMin',
  TOCDO_IPV6_PROBE_RESOLVER: 'ipv6ProbeResolver',
  TOCDO_IPV6_PROBE_TIMEOUT_MS: 'ipv6ProbeTimeoutMs',
  TOCDO_IPV6_PROBE_CONCURRENCY: 'ipv6ProbeConcurrency',
  TOCDO_IPV6_PROBE_SMTP: 'ipv6ProbeSmtp',
  TOCDO_IPV6_PROBE_CA_FILE: 'ipv6ProbeCaFile',
  TOCDO_REPORT_MIN_REPRESENTATIVE_SAMPLES: 'reportMinRepresentativeSamples',
  TOCDO_REPORT_MIN_AGENTS: 'reportMinAgents',
  TOCDO_REPORT_MIN_BUSY_HOUR_SAMPLES_PER_AGENT: 'reportMinBusyHourSamplesPerAgent'
}

const validator = compileValidator(CollectorConfig)

/** Turns an environment string into the type the schema expects, without guessing. */
function coerce (key: keyof CollectorConfig, raw: string): unknown {
  const sample = DEFAULT_COLLECTOR_CONFIG[key]
  if (typeof sample === 'number') return raw.trim() === '' ? raw : Number(raw)
  if (typeof sample === 'boolean') {
    if (/^(1|true|yes)$/i.test(raw)) return true
    if (/^(0|false|no)$/i.test(raw)) return false
    return raw
  }
  return raw
}

export function loadCollectorConfig ({ env = {}, overrides = {} }: {
  env?: Record<string, string | undefined>
  overrides?: Partial<Record<keyof CollectorConfig, unknown>>
} = {}): Readonly<CollectorConfig> {
  const merged: Record<string, unknown> = { ...DEFAULT_COLLECTOR_CONFIG }
  const origin: Record<string, string> = {}
  for (const [envKey, key] of Object.entries(ENV_KEYS)) {
    const raw = env[envKey]
    if (raw !== undefined) { merged[key] = coerce(key, raw); origin[key] = `environment variable ${envKey}` }
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) { merged[key] = value; origin[key] = `option --${key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}` }
  }
  // Agents are told to measure against publicUrl (the default remote config's test server),
  // so without an explicit one it must follow the port this collector listens on.
  if (origin.publicUrl === undefined && typeof merged.port === 'number' && merged.port !== 0) {
    merged.publicUrl = `http://localhost:${merged.port}`
  }
  // A packages dir named explicitly must exist; the default may be absent until packages are built.
  const packagesProblem = origin.packagesDir !== undefined && typeof merged.packagesDir === 'string' && !(existsSync(merged.packagesDir) && statSync(merged.packagesDir).isDirectory())
    ? `packagesDir (from ${origin.packagesDir}): ${merged.packagesDir} is not a directory; build the packages with "npm run package" or point it at the folder holding manifest.json`
    : null
  if (packagesProblem !== null) throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `Invalid collector configuration:\n  - ${packagesProblem}`, { details: { problems: [packagesProblem] } })
  const problems: string[] = []
  if (!validator.check(merged)) {
    problems.push(...validator.errors(merged, 20).map((e) => {
      const key = e.field.replace(/^\//, '')
      const got = key === 'adminToken' ? `${String(merged[key]).length} characters` : key === 'databaseUrl' ? JSON.stringify(redactDatabaseUrl(String(merged[key]))) : JSON.stringify(merged[key])
      const hint = key === 'adminToken' ? ' (at least 128 bits: use e.g. `openssl rand -base64 32`, or leave it empty to have one generated)' : ''
      return `${key} (from ${origin[key] ?? 'defaults'}): ${e.message}${hint}, got ${got}`
    }))
  } else {
    problems.push(...crossFieldProblems(merged as CollectorConfig, origin))
  }
  if (problems.length > 0) {
    throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `Invalid collector configuration:\n  - ${problems.join('\n  - ')}`,
      { details: { problems } })
  }
  return Object.freeze(merged as CollectorConfig)
}

/** Rules between fields, and formats a schema pattern cannot say clearly. */
function crossFieldProblems (c: CollectorConfig, origin: Record<string, string>): string[] {
  const from = (key: string): string => origin[key] ?? 'defaults'
  const out: string[] = []
  if ((c.tlsCertFile === '') !== (c.tlsKeyFile === '')) {
    out.push(`tlsCertFile and tlsKeyFile (from ${from('tlsCertFile')}, ${from('tlsKeyFile')}): give both files for HTTPS, or neither`)
  }
  const dbProblem = databaseUrlProblem(c.databaseUrl)
  if (dbProblem !== null) out.push(`databaseUrl (from ${from('databaseUrl')}): ${dbProblem}`)
  for (const entry of trustedProxies(c.trustProxy)) {
    if (!isAddressOrCidr(entry)) out.push(`trustProxy (from ${from('trustProxy')}): "${entry}" is not an IP address or CIDR (e.g. 10.0.0.5, 10.0.0.0/8, ::1, fd00::/8)`)
  }
  return out
}

/** The trustProxy setting as a list: '' = none. */
export function trustedProxies (setting: string): string[] {
  return setting.split(',').map((s) => s.trim()).filter((s) => s !== '')
}

function isAddressOrCidr (entry: string): boolean {
  const [addr = '', prefix, ...rest] = entry.split('/')
  const family = isIP(addr)
  if (family === 0 || rest.length > 0) return false
  if (prefix === undefined) return true
  if (!/^[0-9]{1,3}$/.test(prefix)) return false
  return Number(prefix) <= (family === 4 ? 32 : 128)
}
