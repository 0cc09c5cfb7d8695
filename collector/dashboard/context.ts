import type { RollupReader } from '../storage/stores.js'
import { CURRENT_GEO_VERSION, LEGACY_GEO_VERSION, publicAreaLevels } from '../storage/area-levels.js'
import { recentMonths, VN_TIME_ZONE } from '../../shared/vn-time.js'

export interface ProvinceChoice { code: string, name: string, agencies: number }

export interface DashboardContext {
  departmentName: string
  version: string
  /** The database holds generated sample data: every page says "Dữ liệu mẫu". */
  sample: boolean
  /** Province pickers: pre-reform provinces (analysis regions) and current provinces, those with agencies first. */
  provinces: { legacy: ProvinceChoice[], current: ProvinceChoice[] }
  /** The current (2025-07) province with the most agencies, as (version, code), or null before any enrolment. */
  defaultProvince: { version: string, code: string } | null
  /** The reports' calendar: IANA zone for dates, and the last 12 months in it, newest first (the period picker). */
  timeZone: string
  months: string[]
  /** The area registry's public part: per geography version its province and area levels, and whether it is legacy. */
  areaLevels: ReturnType<typeof publicAreaLevels>
}

/**
 * What the dashboard needs before it can ask for a report: who runs it and which provinces
 * there are. Read-only; the geography is the seeded one (domain.md §7).
 */
export async function dashboardContext (reader: RollupReader, opts: { departmentName: string, version: string, sample: boolean }, now = Date.now()): Promise<DashboardContext> {
  const legacy: ProvinceChoice[] = await reader.provinceChoices(LEGACY_GEO_VERSION)
  const current: ProvinceChoice[] = await reader.provinceChoices(CURRENT_GEO_VERSION)
  // The 2025 provinces are the administrative units; former provinces are analysis regions.
  const best = [...current].sort((a, b) => b.agencies - a.agencies || a.code.localeCompare(b.code))[0]
  return {
    departmentName: opts.departmentName,
    version: opts.version,
    sample: opts.sample,
    provinces: { legacy, current },
    defaultProvince: best !== undefined && best.agencies > 0 ? { version: CURRENT_GEO_VERSION, code: best.code } : null,
    timeZone: VN_TIME_ZONE,
    months: recentMonths(now, 12),
    areaLevels: publicAreaLevels()
  }
}
