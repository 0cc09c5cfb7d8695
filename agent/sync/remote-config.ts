import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AgentRemoteConfig } from '../../shared/schemas/fleet.js'
import { compileValidator } from '../../shared/schemas/validate.js'
import { DEFAULT_SCHEDULE, type Schedule } from '../../shared/schedule.js'

/**
 * The configuration in force: the last valid one the collector sent (persisted in the data
 * dir), or the default schedule (shared/schedule.ts) when none was ever received (fleet-protocol.md §13). A config
 * is validated whole with the shared schema, so agent and collector agree on what is valid;
 * an invalid one is refused and the previous one stays.
 */
export const REMOTE_CONFIG_FILE = 'remote-config.json'

export interface EffectiveConfig {
  /** null for the built-in default. */
  version: number | null
  schedule: Schedule
  /** Empty: test against the collector's own endpoints. */
  servers: string[]
  /** null: the default for the line's connection class (methodology.md §14). */
  monthlyBudgetMB: number | null
  maxSecondsPerDirection: number
}

export function builtinConfig (maxSecondsPerDirection = 15): EffectiveConfig {
  return { version: null, schedule: DEFAULT_SCHEDULE, servers: [], monthlyBudgetMB: null, maxSecondsPerDirection }
}

const validator = compileValidator(AgentRemoteConfig)

export type ConfigCheck = { ok: true, config: AgentRemoteConfig } | { ok: false, reason: string }

export function checkRemoteConfig (value: unknown): ConfigCheck {
  if (validator.check(value)) {
    const bad = value.schedule.officeHours.find((w) => w.start >= w.end) ?? (value.schedule.eveningWindow.start >= value.schedule.eveningWindow.end ? value.schedule.eveningWindow : undefined)
    if (bad !== undefined) return { ok: false, reason: `window ${bad.start}–${bad.end} ends before it starts` }
    return { ok: true, config: value }
  }
  return { ok: false, reason: validator.errors(value, 3).map((e) => `${e.field}: ${e.message}`).join('; ') }
}

export function fromRemote (c: AgentRemoteConfig): EffectiveConfig {
  return { version: c.version, schedule: c.schedule, servers: [...c.servers], monthlyBudgetMB: c.monthlyBudgetMB, maxSecondsPerDirection: c.maxSecondsPerDirection }
}

/** Reads the persisted config; a missing or damaged file means the built-in default. */
export function loadRemoteConfig (dataDir: string): { config: AgentRemoteConfig | null, problem: string | null } {
  let raw: string
  try { raw = readFileSync(join(dataDir, REMOTE_CONFIG_FILE), 'utf8') } catch { return { config: null, problem: null } }
  let parsed: unknown
  try { parsed = JSON.parse(raw) } catch (err) { return { config: null, problem: `${REMOTE_CONFIG_FILE} is not JSON: ${(err as Error).message}` } }
  const check = checkRemoteConfig(parsed)
  return check.ok ? { config: check.config, problem: null } : { config: null, problem: `${REMOTE_CONFIG_FILE} is invalid: ${check.reason}` }
}

/** Writes atomically (temp file + rename), so a crash never leaves half a config. */
export function saveRemoteConfig (dataDir: string, config: AgentRemoteConfig): void {
  const file = join(dataDir, REMOTE_CONFIG_FILE)
  const tmp = `${file}.tmp`
  writeFileSync(tmp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 })
  chmodSync(tmp, 0o600)
  renameSync(tmp, file)
}
