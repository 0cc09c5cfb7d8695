import type { FleetStore } from '../storage/stores.js'
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
  readonly #fleet: FleetStore
  #current: AgentRemoteConfig
  /** Sets one after the other: each new version is numbered from the one before. */
  #setting: Promise<unknown> = Promise.resolve()

  private constructor (fleet: FleetStore, current: AgentRemoteConfig) {
    this.#fleet = fleet
    this.#current = current
  }

  /** The configuration in force; `fallback` becomes version 1 when none is stored (first start). */
  static async open (fleet: FleetStore, fallback: AgentRemoteConfig, now = Date.now()): Promise<RemoteConfigStore> {
    return new RemoteConfigStore(fleet, await fleet.ensureRemoteConfig(fallback, now))
  }

  current (): AgentRemoteConfig { return this.#current }

  /**
   * Sets a new version for all agents. `version` may be omitted (next number) or given,
   * in which case it must be above the one in force.
   */
  async set (input: unknown, now = Date.now()): Promise<AgentRemoteConfig> {
    const run = this.#setting.then(async () => await this.#set(input, now))
    this.#setting = run.catch(() => {})
    return await run
  }

  async #set (input: unknown, now: number): Promise<AgentRemoteConfig> {
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
    if (!await this.#fleet.addRemoteConfig(candidate, now)) {
      throw new TocdoError('TOCDO_ERR_VALIDATION', `/version: version ${candidate.version} or a later one is already stored; the configuration in force (version ${this.#current.version}) is kept`, { details: { field: '/version' } })
    }
    this.#current = candidate
    return candidate
  }
}
