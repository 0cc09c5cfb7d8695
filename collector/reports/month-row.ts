import type { MonthCounters } from '../aggregation/rollup.js'
import type { TimeBand } from '../aggregation/time-bands.js'

/** One rollup_agent_month row with its samples decoded. */
export interface MonthRow extends MonthCounters {
  agentId: string
  agencyId: string
  month: string
  band: TimeBand
  connectionClass: string
  isp: string
  communeCode: string
  provinceCode: string
  legacyDistrictCode: string
  legacyProvinceCode: string
}
