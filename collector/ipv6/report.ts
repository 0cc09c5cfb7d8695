import { TocdoError } from '../../shared/errors.js'
import { loadTargetEntries, type TargetEntry } from '../targets/targets.js'
import { CHECK_NAMES, type CheckName, type Colour } from './checks.js'
import type { GeoStore, Ipv6PeriodRows, Ipv6ReportAgency, Ipv6Store } from '../storage/stores.js'
import { ipv6OnlyArea, ipv6OnlyCells, type Ipv6OnlyArea, type Ipv6OnlyCell } from './ipv6-only.js'
import { networkStateOf, type NetworkState } from './network-state.js'
import { parsePeriod, periodBounds, periodId, previousPeriod } from '../../shared/period.js'
import { AREA_LEVELS, LEVELS as AREA_LEVEL_NAMES, provinceLevelOf, type AreaLevel, type GeoVersion, type Level as AreaLevelName } from '../storage/area-levels.js'
import { LEVELS, readinessLevel, worstColour, type Level, type ServiceColours } from './readiness.js'

/** Per agency, or per area at any level of the area registry. */
export const IPV6_REPORT_LEVELS = ['agency', ...AREA_LEVEL_NAMES] as const
export type Ipv6ReportLevel = 'agency' | AreaLevelName

export interface Ipv6ReportOptions {
  level: Ipv6ReportLevel
  /** 2025-03 code for legacy levels, 2025-07 code otherwise. */
  province?: string | undefined
  /** YYYY-MM, YYYY-Www, 'month' or 'week'; default the current month. */
  period?: string | undefined
  now?: number
  /** Network state lookback before an agency's last IPv6 result in the period (default 24 h). */
  networkWindowMs?: number
}

export interface ServiceCell { colour: Colour, reason: string, target: string, checkedAt: string }

export interface AgencyRow {
  agencyId: string
  agencyName: string
  communeCode: string
  provinceCode: string
  legacyDistrictCode: string | null
  legacyProvinceCode: string | null
  network: NetworkState
  services: Record<CheckName, ServiceCell | null>
  level: Level
  /** IPv6-only readiness: the latest `ipv6_only` result of the period (null: none). */
  ipv6Only: Ipv6OnlyCell | null
}

export interface TargetCell {
  id: string
  document: string
  issuer: string | null
  date: string | null
  section: string | null
  year: number
  metric: string
  requiredShare: number | null
  statistic: string
  /** Agencies of the area the target applies to (a provincial plan: those of its former province). */
  agencies: number
  measuredShare: number | null
  met: boolean | null
  note: string
}

export interface AreaRow {
  code: string
  name: string
  version: GeoVersion
  agencies: number
  levels: Record<Level, { count: number, share: number }>
  readyShare: number
  failing: Record<CheckName, { red: number, yellow: number }> & { network_doesnt_work: number }
  trend: { previousPeriod: string, previousReadyShare: number | null, change: number | null }
  /** IPv6-only readiness of the area's agencies (the 2030 IPv6-only goal). */
  ipv6Only: Ipv6OnlyArea
  targets: TargetCell[]
}

export interface Ipv6Report {
  level: Ipv6ReportLevel
  province: { code: string, version: string, name: string } | null
  period: { id: string, kind: string, from: string, to: string, previous: string }
  generatedAt: string
  definitions: Record<string, unknown>
  agencies: AgencyRow[]
  areas: AreaRow[]
}

const DEFINITIONS = {
  ready: 'ns_v6 and https_v6 green, and the agency network works over IPv6 (domain.md §6.3)',
  readyPlus: 'ready, plus mx_v6 green (or gray: no mail service) and dnssec green',
  partial: 'not ready, but the network works or is capable, or some IPv6 service check is green or yellow',
  none: 'data exists and nothing above holds',
  unknown: 'no agent IPv6 result and no prober run in the period',
  levels: LEVELS,
  services: 'the latest prober run inside the period; per check the worst colour over its targets',
  network: 'agent results of the period, evaluated over the 24 h before the agency\'s last IPv6 result in it (RIPE Atlas three-state logic)',
  targets: 'ipv6_conversion is compared with readyShare; ipv6_portal with the share of agencies whose https_v6 is green; ipv6_service,dnssec with the share whose https_v6 and dnssec are both green; ipv6_only with the share of agencies whose line could run IPv6-only today (null when no agency of the area was measured)',
  ipv6Only: 'the agency\'s latest IPv6-only readiness result of the period: ready when IPv6 works and NAT64/DNS64 is present (RFC 7050), or every listed national e-service answers over IPv6 alone (docs/methodology.md §10.1)'
}

type AgencyBase = Ipv6ReportAgency

/** The agency level lists agencies of current provinces. */
const areaLevel = (level: Ipv6ReportLevel): AreaLevel => AREA_LEVELS[level === 'agency' ? 'province' : level]

/** The period's instants in Vietnam time (a month or a week, never 'all'). */
type Bounds = NonNullable<ReturnType<typeof periodBounds>>

function serviceCells (rows: Ipv6PeriodRows['checks']): Map<string, Record<CheckName, ServiceCell | null>> {
  const out = new Map<string, Record<CheckName, ServiceCell | null>>()
  for (const r of rows) {
    const cells = out.get(r.agencyId) ?? Object.fromEntries(CHECK_NAMES.map((c) => [c, null])) as Record<CheckName, ServiceCell | null>
    const prev = cells[r.name]
    const colour = worstColour(prev === null ? [r.colour] : [prev.colour, r.colour]) as Colour
    cells[r.name] = prev !== null && colour === prev.colour ? prev : { colour, reason: r.reason, target: r.target, checkedAt: new Date(r.at).toISOString() }
    out.set(r.agencyId, cells)
  }
  return out
}

/** Per agency, the network state over its observations in the window before its last one in the period. */
function networkStates (rows: Ipv6PeriodRows['networks'], windowMs: number): Map<string, NetworkState> {
  const bool = (v: number | null): boolean | null => v === null ? null : v === 1
  return new Map(rows.map((r) => [r.agencyId, networkStateOf({ last: r.last, results: r.results, capable: bool(r.capable), connected: bool(r.connected), preferred: bool(r.preferred) }, windowMs)]))
}

function agencyRows (agencies: readonly AgencyBase[], rows: Ipv6PeriodRows, windowMs: number): AgencyRow[] {
  const services = serviceCells(rows.checks)
  const networks = networkStates(rows.networks, windowMs)
  const only = ipv6OnlyCells(rows.ipv6Only)
  const empty: NetworkState = { capable: null, works: 'unknown', preferred: null, results: 0, windowFrom: null, windowTo: null }
  return agencies.map((a) => {
    const cells = services.get(a.id) ?? Object.fromEntries(CHECK_NAMES.map((c) => [c, null])) as Record<CheckName, ServiceCell | null>
    const network = networks.get(a.id) ?? empty
    const colours = Object.fromEntries(CHECK_NAMES.map((c) => [c, cells[c]?.colour ?? null])) as ServiceColours
    return {
      agencyId: a.id,
      agencyName: a.name,
      communeCode: a.communeCode,
      provinceCode: a.provinceCode,
      legacyDistrictCode: a.legacyDistrictCode,
      legacyProvinceCode: a.legacyProvinceCode,
      network,
      services: cells,
      level: readinessLevel(network, colours),
      ipv6Only: only.get(a.id) ?? null
    }
  })
}

const isReady = (r: AgencyRow): boolean => r.level === 'ready' || r.level === 'ready_plus'
const share = (n: number, of: number): number => of === 0 ? 0 : n / of

function measuredShare (metric: string, rows: readonly AgencyRow[]): number | null {
  if (rows.length === 0) return null
  if (metric === 'ipv6_conversion') return share(rows.filter(isReady).length, rows.length)
  if (metric === 'ipv6_portal') return share(rows.filter((r) => r.services.https_v6?.colour === 'green').length, rows.length)
  if (metric === 'ipv6_only') return ipv6OnlyArea(rows.map((r) => r.ipv6Only)).readyShare
  if (metric.includes('dnssec')) return share(rows.filter((r) => r.services.https_v6?.colour === 'green' && r.services.dnssec?.colour === 'green').length, rows.length)
  return null
}

/** The IPv6 targets (seeds/targets.json) an area's agencies are held against, each measured over the agencies it covers. */
function targetCells (entries: readonly TargetEntry[], rows: readonly AgencyRow[]): TargetCell[] {
  const out: TargetCell[] = []
  for (const t of entries) {
    if (!t.metric.startsWith('ipv6')) continue
    let covered = rows
    if (t.scope === 'provincial') {
      if (t.region === null) continue
      const { code, version } = t.region
      const { key } = provinceLevelOf(version)
      covered = rows.filter((r) => r[key] === code)
      if (covered.length === 0) continue
    }
    const measured = measuredShare(t.metric, covered)
    const required = typeof t.requiredShare === 'number' ? t.requiredShare : null
    const src = t.source as TargetEntry['source'] & { issuer?: string | null, date?: string | null, section?: string | null }
    out.push({
      id: t.id,
      document: src.document,
      issuer: src.issuer ?? null,
      date: src.date ?? null,
      section: src.section ?? null,
      year: t.year,
      metric: t.metric,
      requiredShare: required,
      statistic: t.statistic,
      agencies: covered.length,
      measuredShare: measured,
      met: measured === null || required === null ? null : measured >= required,
      note: measured === null && t.metric === 'ipv6_only' ? `${t.note ?? ''} No IPv6-only readiness result from these agencies in the period.`.trim() : t.note ?? ''
    })
  }
  return out.sort((a, b) => a.year - b.year || a.id.localeCompare(b.id))
}

function areaKey (level: Ipv6ReportLevel, a: AgencyRow): string | null {
  return a[areaLevel(level).key]
}

/**
 * The IPv6 migration report (issue 5): per agency, network state + service colours + level;
 * per area, the share of agencies at each level, failing checks, the trend against the
 * previous period and the plan targets beside it. Reads only: the evidence is kept current by
 * the ingest and rebuilt by a start-up job, never here.
 */
export async function ipv6Report (stores: { geo: Pick<GeoStore, 'province' | 'targets' | 'areas'>, ipv6: Pick<Ipv6Store, 'reportRows'> }, options: Ipv6ReportOptions): Promise<Ipv6Report> {
  const { level, province } = options
  if (!(IPV6_REPORT_LEVELS as readonly string[]).includes(level)) {
    throw new TocdoError('TOCDO_ERR_VALIDATION', `level=${String(level)} must be one of ${IPV6_REPORT_LEVELS.join(', ')}`, { details: { field: 'level' } })
  }
  const now = options.now ?? Date.now()
  const windowMs = options.networkWindowMs ?? 24 * 3_600_000
  const parsed = parsePeriod(options.period, undefined, 'month', now, 'weeks')
  const previous = previousPeriod(parsed)
  const period = periodBounds(parsed) as Bounds
  const { version, legacy, provinceColumn } = areaLevel(level)
  let provinceInfo: Ipv6Report['province'] = null
  if (province !== undefined) {
    const p = await stores.geo.province(version, province)
    if (p === undefined) {
      throw new TocdoError('TOCDO_ERR_UNKNOWN_AREA', `province=${province} is not a ${version} province code${legacy ? ' (legacy levels use pre-reform codes, e.g. 62 for Kon Tum)' : ' (e.g. 51 for Quảng Ngãi)'}`, { details: { field: 'province' } })
    }
    provinceInfo = { ...p, version }
  }
  const { agencies, periods: [currentRows, previousRows] } = await stores.ipv6.reportRows({
    province: province === undefined ? undefined : { column: provinceColumn, code: province },
    periods: level === 'agency' ? [period] : [period, periodBounds(previous) as Bounds],
    windowMs
  })
  const current = agencyRows(agencies, currentRows as Ipv6PeriodRows, windowMs)
  const report: Ipv6Report = {
    level,
    province: provinceInfo,
    period: { id: periodId(parsed), kind: parsed.kind, from: new Date(period.fromMs).toISOString(), to: new Date(period.toMs).toISOString(), previous: periodId(previous) },
    generatedAt: new Date(now).toISOString(),
    definitions: DEFINITIONS,
    agencies: level === 'agency' ? current : [],
    areas: []
  }
  if (level === 'agency') return report

  const before = agencyRows(agencies, previousRows as Ipv6PeriodRows, windowMs)
  const entries = await loadTargetEntries(stores.geo)
  const names = new Map((await stores.geo.areas(areaLevel(level).level, null)).map((r) => [r.code, r.name]))
  const group = (rows: readonly AgencyRow[]): Map<string, AgencyRow[]> => {
    const m = new Map<string, AgencyRow[]>()
    for (const r of rows) {
      const key = areaKey(level, r)
      if (key === null) continue // e.g. an agency whose legacy district is ambiguous: listed at agency level only
      m.set(key, [...(m.get(key) ?? []), r])
    }
    return m
  }
  const prevGroups = group(before)
  for (const [code, rows] of [...group(current)].sort(([a], [b]) => a.localeCompare(b))) {
    const counts = Object.fromEntries(LEVELS.map((l) => {
      const count = rows.filter((r) => r.level === l).length
      return [l, { count, share: share(count, rows.length) }]
    })) as AreaRow['levels']
    const failing = Object.fromEntries(CHECK_NAMES.map((c) => [c, {
      red: rows.filter((r) => r.services[c]?.colour === 'red').length,
      yellow: rows.filter((r) => r.services[c]?.colour === 'yellow').length
    }])) as unknown as AreaRow['failing']
    failing.network_doesnt_work = rows.filter((r) => r.network.works === 'doesnt_work').length
    const readyShare = share(rows.filter(isReady).length, rows.length)
    const prevRows = (prevGroups.get(code) ?? []).filter((r) => r.level !== 'unknown')
    const previousReadyShare = prevRows.length === 0 ? null : share((prevGroups.get(code) ?? []).filter(isReady).length, (prevGroups.get(code) ?? []).length)
    report.areas.push({
      code,
      name: names.get(code) ?? code,
      version,
      agencies: rows.length,
      levels: counts,
      readyShare,
      failing,
      trend: { previousPeriod: periodId(previous), previousReadyShare, change: previousReadyShare === null ? null : readyShare - previousReadyShare },
      ipv6Only: ipv6OnlyArea(rows.map((r) => r.ipv6Only)),
      targets: targetCells(entries, rows)
    })
  }
  return report
}
