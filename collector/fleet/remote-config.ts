import type { Db } from '../storage/db.js'
import { TocdoError } from '../../shared/errors.js'
import { compileValidator } from '../../shared/schemas/validate.js'
import { AgentRemoteConfig } from '../../shared/schemas/fleet.js'
import { DEFAULT_SCHEDULE } from '../../shared/schedule.js'

const validateConfig = compileValidator(AgentRemoteConfig)

/** Version 1, in force until an admin sets another: the default schedule the agents also fall back to, this collector as test server. */
export function defaultRemoteConfig (publicUrl: string): AgentRemoteConfig {
  return {
    version: 1,
    schedule: DEFAULT_SCHEDULE,
    servers: [publicUrl],
    monthlyBudgetMB: 30_000,
    maxSecondsPerDirection: 15
  }
}

/**
 * Remote configuration versions. Every version is kept; the highest is in force and cached,
 * since every sync reads it. An invalid configuration is refused whole with the failing
 * field, and the one in force stays.
 */
export class RemoteConfigStore {
  readonly #db: Db
  #current: AgentRemoteConfig

  constructor (db: Db, fallback: AgentRemoteConfig) {
    this.#db = db
    const body = db.prepare('SELECT body FROM remote_config ORDER BY version DESC LIMIT 1').pluck().get() as string | undefined
    if (body === undefined) {
      this.#insert(fallback)
      this.#current = fallback
    } else {
      this.#current = JSON.parse(body) as AgentRemoteConfig
    }
  }

  current (): AgentRemoteConfig { return this.#current }

  /**
   * Sets a new version for all agents. `version` may be omitted (next number) or given,
   * in which case it must be above the one in force.
   */
  set (input: unknown, now = Date.now()): AgentRemoteConfig {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new TocdoError('TOCDO_ERR_VALIDATION', 'the configuration must be a JSON object', { details: { field: '/' } })
    }
    const given = (input as { version?: unknown }).version
    const next = this.#current.version + 1
    if (given !== undefined && (typeof given !== 'number' || !Number.isInteger(given) || given <= this.#current.version)) {
      throw new TocdoError('TOCDO_ERR_VALIDATION', `/version: must be an integer above ${this.#current.version} (the version in force), or omitted to get ${next}`, { details: { field: '/version' } })
    }
    const candidate = { ...input, version: given ?? next }
    if (!validateConfig.check(candidate)) {
      const [first] = validateConfig.errors(candidate, 1)
      const field = first?.field ?? '/'
      throw new TocdoError('TOCDO_ERR_VALIDATION', `${field}: ${first?.message ?? 'invalid'}; the configuration in force (version ${this.#current.version}) is kept`, { details: { field } })
    }
    this.#insert(candidate, now)
    this.#current = candidate
    return candidate
  }

  #insert (config: AgentRemoteConfig, now = Date.now()): void {
    this.#db.prepare('INSERT INTO remote_config (version, body, created_at) VALUES (?, ?, ?)').run(config.version, JSON.stringify(config), now)
  }
}
