import { Type, type Static } from '@sinclair/typebox'
import { TocdoError } from '../shared/errors.js'
import { compileValidator } from '../shared/schemas/validate.js'

/**
 * Collector configuration: defaults here, overridden by environment (TOCDO_*) and then by
 * CLI flags; validated once at start and frozen. Nothing else reads process.env.
 */
export const CollectorConfig = Type.Object({
  host: Type.String({ minLength: 1 }),
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  /** Directory for the SQLite database; created if missing. */
  dataDir: Type.String({ minLength: 1 }),
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
  demo: Type.Boolean()
}, { additionalProperties: false })
export type CollectorConfig = Static<typeof CollectorConfig>

export const DEFAULT_COLLECTOR_CONFIG: CollectorConfig = {
  // 'localhost' listens on both 127.0.0.1 and ::1; use '::' to serve every interface, IPv4 and IPv6.
  host: 'localhost',
  port: 8080,
  dataDir: './data',
  logLevel: 'info',
  speedtestOnly: false,
  maxConcurrentTests: 8,
  busyRetryAfterS: 30,
  bodyLimitBytes: 1024 * 1024, // Fastify's default; a 500-result batch is ≤ 512 KiB
  demo: false
}

const ENV_KEYS: Record<string, keyof CollectorConfig> = {
  TOCDO_HOST: 'host',
  TOCDO_PORT: 'port',
  TOCDO_DATA_DIR: 'dataDir',
  TOCDO_LOG_LEVEL: 'logLevel',
  TOCDO_SPEEDTEST_ONLY: 'speedtestOnly',
  TOCDO_MAX_CONCURRENT_TESTS: 'maxConcurrentTests',
  TOCDO_BUSY_RETRY_AFTER_S: 'busyRetryAfterS',
  TOCDO_BODY_LIMIT_BYTES: 'bodyLimitBytes',
  TOCDO_DEMO: 'demo'
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
  if (!validator.check(merged)) {
    const problems = validator.errors(merged, 20).map((e) => {
      const key = e.field.replace(/^\//, '')
      return `${key} (from ${origin[key] ?? 'defaults'}): ${e.message}, got ${JSON.stringify(merged[key])}`
    })
    throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `Invalid collector configuration:\n  - ${problems.join('\n  - ')}`,
      { details: { problems } })
  }
  return Object.freeze(merged as CollectorConfig)
}
