import type { AgentRemoteConfig } from './schemas/fleet.js'
import { EVENING_WINDOW, OFFICE_WINDOWS, VN_TIME_ZONE } from './vn-time.js'

export type Schedule = AgentRemoteConfig['schedule']

/**
 * The one default schedule: the agent's built-in one (used until a collector sends a
 * configuration) and the collector's version 1. docs/methodology.md §13 and
 * docs/fleet-protocol.md §13 set it: 6 full tests a day (every 4 h, SIMET's 240 min), latency
 * every 15 min, IPv6 every 60 min, IPv6-only readiness every 6 h (a line's readiness changes
 * with its provider's configuration, not by the hour), and the office and evening windows of the reports' time
 * bands, so a guaranteed office slot always lands in the office band (08:00, not 07:30).
 */
export const DEFAULT_SCHEDULE: Schedule & { ipv6OnlyEveryMin: number } = {
  fullTestsPerDay: 6,
  latencyEveryMin: 15,
  ipv6EveryMin: 60,
  ipv6OnlyEveryMin: 360,
  officeHours: OFFICE_WINDOWS.map((w) => ({ ...w })),
  eveningWindow: { ...EVENING_WINDOW },
  timezone: VN_TIME_ZONE
}
