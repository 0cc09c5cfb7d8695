/**
 * The collector's storage boundary (docs/storage.md). Everything outside `collector/storage/`
 * reaches the database only through these interfaces; `storage/sqlite/` implements them on the
 * embedded SQLite store, `storage/postgres/` on PostgreSQL.
 *
 * Rules every method keeps, so a second backend can implement the same contract:
 * - it is asynchronous, even where SQLite answers synchronously;
 * - one method is one transaction: no caller ever holds a transaction across modules;
 * - a write resolves only when it is durable;
 * - a read never writes.
 */

import type { AgentRemoteConfig } from '../../shared/schemas/fleet.js'
import type { CheckName, CheckResult, Colour } from '../../shared/ipv6-checks.js'
import type { ItemAck, ResultRecord } from '../../shared/schemas/result.js'
import type { GeoVersion, Level } from './area-levels.js'
import type { TimeBand } from '../aggregation/time-bands.js'
import type { MonthCounters } from '../aggregation/rollup.js'

// ── Rows of the result table that reports read besides the rollups ──

/** One candidate result for a line's lower bound: its agent, download and flag list. */
export type LinkLimitedRow = [agentId: string, downloadMbps: number, flags: string]

/** Speed results measured over Wi-Fi or through a VPN, kept out of every figure (methodology.md §11). */
export interface SetApartCounts { wifi: number, vpn: number }

// ── Fleet: agencies, agents, enrolment codes, tokens, remote configuration, admin audit ──

export interface Agency {
  id: string
  name: string
  category: 'organisation' | 'public_access_point'
  connectionClass: 'fixed' | '4g' | '5g' | 'leased_line'
  isp: string
  planDownMbps: number | null
  planUpMbps: number | null
  communeCode: string
  provinceCode: string
  legacyCommuneCode: string | null
  legacyDistrictCode: string | null
  legacyProvinceCode: string | null
  placementNote: string | null
  /** The high-tech zone the agency is in (its name), or null when in none (migration 042). */
  highTechZone: string | null
  createdAt: number
}

/** An agency with the candidate legacy districts of an ambiguous placement (empty when placed). */
export type PlacedAgency = Agency & { placementCandidates: string[] }

/** An agency to create, placed in both geographies by the caller. */
export type NewAgency = Omit<Agency, 'id' | 'createdAt' | 'highTechZone'> & { id?: string, highTechZone?: string | null, placementCandidates?: readonly string[] }

export interface AgentRow {
  id: string
  agencyId: string
  name: string
  status: 'active' | 'revoked' | 'decommissioned'
  createdAt: number
  lastSeenAt: number | null
  agentVersion: string | null
}

/** An agent as the admin sees it. */
export interface AgentDetail extends AgentRow {
  agencyName: string
  hostname: string | null
  os: string | null
  arch: string | null
  lastSyncAt: number | null
  configVersion: number | null
  queuePending: number | null
  queueOldestAgeS: number | null
  queueDead: number | null
  queueBytes: number | null
  clockOffsetMs: number | null
  clockSinceSyncS: number | null
}

/** Heartbeat fields kept per agent (the last sync wins). */
export interface HeartbeatRecord {
  agentVersion: string
  configVersion: number | null
  uptimeS: number
  queue: { pending: number, oldestAgeS: number | null, dead: number, bytes: number }
  counters: Record<string, number>
  clock: { offsetMs: number | null, sinceSyncS: number | null }
}

/** What target selection needs of each agency: its category, its commune's 2025-07 names and its high-tech zone. */
export type AgencyScopeRow = [id: string, category: string, communeFullName: string | null, communeName: string | null, highTechZone: string | null]

/** The host an enrolling machine reports. */
export interface EnrolledHost { hostname: string, os: string, arch: string, agentVersion: string }

/** One admin action as recorded (docs/operations.md, "Audit log"). */
export interface AuditEntry {
  id: number
  /** Server time, epoch ms. */
  at: number
  /** 'admin:' + the admin token's fingerprint. */
  actor: string
  via: 'cli' | 'api'
  action: string
  target: string | null
  summary: Record<string, unknown>
  clientIp: string
  status: number
}

export type NewAuditEntry = Omit<AuditEntry, 'id'>

/**
 * Tokens and codes reach the store as sha256 digests only (fleet-protocol.md §2); ids are
 * made by the store.
 */
export interface FleetStore {
  /** The agent a bearer token's hash belongs to, with its agency, in one read. */
  agentByTokenHash: (tokenHash: Buffer) => Promise<{ agent: AgentRow, agency: Agency } | undefined>
  agentById: (id: string) => Promise<AgentRow | undefined>
  agencyById: (id: string) => Promise<PlacedAgency | undefined>
  agencyByName: (name: string) => Promise<PlacedAgency | undefined>
  /** Every agency, oldest first. */
  listAgencies: () => Promise<PlacedAgency[]>
  /** Every agent with its last heartbeat, by agency name then age. */
  listAgents: () => Promise<AgentDetail[]>
  /** Creates an agency and, when given, its first enrolment code, together or not at all. */
  createAgency: (agency: NewAgency, now: number, enrolmentCode?: { codeHash: Buffer, expiresAt: number }) => Promise<PlacedAgency>
  /** Creates an active agent of an existing agency with the token whose hash is given. */
  createAgent: (agencyId: string, name: string, tokenHash: Buffer, now: number) => Promise<AgentRow>
  /** Stores a single-use code for an agency; false when there is no such agency. */
  issueEnrolmentCode: (agencyId: string, codeHash: Buffer, expiresAt: number, now: number) => Promise<boolean>
  /**
   * Uses an enrolment code and creates the agent with its host identity, together: of two
   * machines racing with one code, one enrols. Undefined when the code is unknown, used or
   * expired at `now`.
   */
  enrol: (codeHash: Buffer, host: EnrolledHost, tokenHash: Buffer, now: number) => Promise<{ agent: AgentRow, agency: Agency } | undefined>
  /** Sets (or, with null, clears) an agency's high-tech zone; the agency as now stored, or undefined when none. */
  setHighTechZone: (agencyId: string, zone: string | null) => Promise<PlacedAgency | undefined>
  /** Revokes or decommissions an agent; the agent as now stored, or undefined when none. */
  setAgentStatus: (agentId: string, status: AgentRow['status'], now: number) => Promise<AgentDetail | undefined>
  /** The stored admin token's sha256, or null when none was generated. */
  adminTokenHash: () => Promise<Buffer | null>
  /** Stores the admin token's hash unless one is stored already; false when one was. */
  storeAdminTokenHash: (tokenHash: Buffer, now: number) => Promise<boolean>
  /** The remote configuration in force, storing `fallback` as the first version when none is. */
  ensureRemoteConfig: (fallback: AgentRemoteConfig, now: number) => Promise<AgentRemoteConfig>
  /** Stores a validated configuration version; false when that version or a later one is stored already. */
  addRemoteConfig: (config: AgentRemoteConfig, now: number) => Promise<boolean>
  /** Appends one row to the admin audit log (bounded by the caller); its id. */
  recordAudit: (entry: NewAuditEntry) => Promise<number>
  /** Newest first; `before` is the id of the oldest entry already seen (to page back). */
  listAudit: (page: { limit: number, before?: number }) => Promise<AuditEntry[]>
}

// ── Results: exactly-once ingest of a commit group with its projections (rollups, IPv6
// evidence, heartbeats), retention and backup ──

/**
 * One result as ingest prepared it, outside any transaction (collector/ingest/ingest.ts): the
 * typed columns of the `result` row, the payload hash that tells a duplicate from a conflict,
 * the stored text and the record it was parsed into (projections derive from `record`, never
 * from parsing `raw` again).
 */
export interface ResultRow {
  agentId: string
  resultId: string
  seq: number | null
  kind: string
  schemaVersion: string
  status: string
  measuredAt: number
  measuredAtCorr: number
  receivedAt: number
  clockFlags: number
  family: number | null
  downloadMbps: number | null
  uploadMbps: number | null
  idleLatencyMs: number | null
  loadedDownMs: number | null
  loadedUpMs: number | null
  flags: string
  confidence: string | null
  valid: number
  agencyId: string
  connectionClass: string
  isp: string
  communeCode: string
  provinceCode: string
  legacyDistrictCode: string | null
  legacyProvinceCode: string | null
  payloadSha256: Buffer
  raw: string
  record: ResultRecord
}

/** One request's items, validated and turned into rows; rejected items already have their acks. */
export interface PreparedBatch {
  agentId: string
  /** Acks in item order; rejected items are filled in, the rest by the commit. */
  items: ItemAck[]
  rows: Array<{ index: number, row: ResultRow }>
  rejected: number
}

/** A request's acks, once the group holding it is durable. */
export interface IngestOutcome {
  items: ItemAck[]
  accepted: number
  duplicate: number
  conflict: number
  rejected: number
}

/**
 * What an ingest request says about its agent, stored in the same transaction as its results:
 * a sync's whole heartbeat, or (POST /api/v1/results) only that the agent was seen.
 */
export type AgentSeen =
  | { kind: 'heartbeat', agentId: string, at: number, heartbeat: HeartbeatRecord }
  | { kind: 'seen', agentId: string, at: number }

/** One request's part of a commit group. */
export interface CommitJob {
  batch: PreparedBatch
  seen: AgentSeen | null
}

/** A committed group: each job's outcome in job order, and where the time went (for metrics). */
export interface CommittedGroup {
  outcomes: IngestOutcome[]
  /** The transaction, ms. */
  commitMs: number
  /** Making it durable after the transaction (SQLite: the WAL fsync), ms; 0 when the commit itself is. */
  syncMs: number
}

/**
 * `commitGroup` committed the group but could not make it durable: nothing of it may be
 * acknowledged, and committing its jobs again would only find them as duplicates.
 */
export class GroupNotDurableError extends Error {
  constructor (cause: unknown) {
    super(`the group committed but is not known to be on stable storage: ${(cause as Error)?.message ?? String(cause)}`, { cause })
    this.name = 'GroupNotDurableError'
  }
}

export interface ResultStore {
  /**
   * Commits the jobs in ONE transaction: each row exactly once on (agent, result id) (a resend
   * with the same payload hash is a `duplicate`, a different payload a `conflict`, the first copy
   * kept: fleet-protocol.md §7), with every projection of the accepted rows (rollups, IPv6
   * evidence) and each job's agent heartbeat. Resolves when the group is durable; rejects with
   * the transaction rolled back, or with GroupNotDurableError.
   */
  commitGroup: (jobs: readonly CommitJob[]) => Promise<CommittedGroup>
  /** Start-up job: rebuilds the rollups from the result table when their definition changed; marks an empty store current. */
  ensureRollups: () => Promise<{ rebuiltRows: number | null }>
  /** Rebuilds both rollup tables from the result table, in one transaction. */
  rebuildRollups: () => Promise<{ rows: number }>
  /** Start-up job: rebuilds the IPv6 evidence from the stored results when its definition changed. */
  ensureIpv6Evidence: () => Promise<{ results: number, evidence: number } | null>
  /** Retention: deletes up to `limit` results measured before `cutoffMs` (the rollups stay); returns how many went. */
  deleteResultsBefore: (cutoffMs: number, limit: number) => Promise<number>
}

// ── Rollups as the reports read them ──

/**
 * One rollup_agent_month row (an agent, month and time band) with its representative samples
 * decoded (sorted; read-only: a cache may share them between reports).
 */
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

/** Which rollup rows a report reads: one province (either geography), one agency, or everything. */
export type RollupScope = 'legacy_province_code' | 'province_code'
export type RollupFilter = { column: RollupScope | 'agency_id', code: string } | { column: null }

/**
 * What changed in the rollups since a generation the caller saw: the months touched, or 'all'
 * (a rebuild, a write from another process, or a generation too old to answer for).
 */
export interface RollupChanges { generation: number, months: readonly string[] | 'all' }

/** Rows per month as read, with the change generation they were read at. */
export interface MonthRowsRead { generation: number, months: Map<string, MonthRow[]> }

/** One month pack (a store's own optimisation; a store without packs never reports one missing). */
export interface MonthPackKey { month: string, scope: RollupScope, code: string }

/** Active agents per area of a level, by connection class and ISP (area '' when not placed at that level). */
export interface EnrolledCount { area: string, connectionClass: string, isp: string, agents: number }

/** What every report needs of the agencies and results besides the rollups (reports/context.ts adds the targets). */
export interface ReportContextRows {
  agencyScopes: AgencyScopeRow[]
  /** Link-limited results in the period (reports/link-limited.ts), or none when no period was asked. */
  linkLimited: LinkLimitedRow[]
}

export interface AgencyAgentRow { id: string, name: string, status: string, lastSeenAt: number | null, agentVersion: string | null }
export interface RecentResultRow {
  agentId: string
  resultId: string
  kind: string
  status: string
  measuredAt: number
  downloadMbps: number | null
  uploadMbps: number | null
  idleLatencyMs: number | null
  valid: number
  flags: string
  confidence: string | null
}
/** Whole-transfer speeds (the record's meanWholeMbps) of an agent's valid speed tests, all stored history. */
export interface WholeTransferRows { down: Array<number | null>, up: Array<number | null> }
export interface PlaceRow { code: string, name: string, version: string }

/** What the agency page reads besides its rollups, in one snapshot. */
export interface AgencyDetailRows {
  agency: Agency
  agents: AgencyAgentRow[]
  /** Newest results of each agent, at most `recent` each. */
  recent: RecentResultRow[]
  wholeTransfer: Map<string, WholeTransferRows>
  setApart: Map<string, SetApartCounts>
  places: { commune: PlaceRow | null, province: PlaceRow | null, legacyCommune: PlaceRow | null, legacyDistrict: PlaceRow | null, legacyProvince: PlaceRow | null }
}

export interface ProvinceChoiceRow { code: string, name: string, agencies: number }

export interface RollupReader {
  /** Every rollup row of the filter in [from, to] (months, inclusive; null bounds: all time). */
  rowsInRange: (filter: RollupFilter, from: string | null, to: string | null) => Promise<MonthRow[]>
  /** Rows of each listed month; `now` says which months are closed (a store may serve those from packs). */
  rowsByMonth: (filter: RollupFilter, months: readonly string[], now: number) => Promise<MonthRowsRead>
  /** The change signal caches use: what changed since `generation` (null: the first call, answers 'all'). */
  changesSince: (generation: number | null) => Promise<RollupChanges>
  /** Closed months whose pack is missing (never any on a store without packs). */
  monthPacksMissing: (now: number) => Promise<MonthPackKey[]>
  /** Builds one pack from its rows in one write transaction; false when its month has no rows. */
  buildMonthPack: (key: MonthPackKey, now: number) => Promise<boolean>

  enrolledByArea: (level: Level, province: string | null) => Promise<EnrolledCount[]>
  enrolledAgencies: (scope: RollupScope, code: string) => Promise<number>
  agencyPlans: () => Promise<Array<[id: string, planDownMbps: number | null]>>
  contextRows: (range: { fromMs: number, toMs: number } | null | undefined) => Promise<ReportContextRows>
  agencyDetail: (agencyId: string, range: { fromMs: number, toMs: number } | null, recent: number) => Promise<AgencyDetailRows | undefined>
  /** A province's speed results set apart (Wi-Fi, VPN) in the range: current code, or a former province's with `legacy`. */
  setApartInProvince: (province: string, legacy: boolean, range: { fromMs: number, toMs: number } | null) => Promise<SetApartCounts>
  provinceChoices: (version: GeoVersion) => Promise<ProvinceChoiceRow[]>
}

// ── Geography (both versions), placement and targets ──

/** A target as seeds/targets.json states it, with its source. */
export interface TargetEntry {
  id: string
  scope: 'national' | 'provincial' | string
  region: { version: string, code: string } | null
  year: number
  metric: string
  population: string
  connectionClasses?: string[]
  categories?: string[]
  /** 2025-07 unit types (lower case) the agency's commune must have; absent: any. */
  unitTypes?: string[]
  /** True when the target counts only agencies in a high-tech zone (their highTechZone is set). */
  inHighTechZone?: boolean
  /** The target's scope in words (seeds/targets.json). */
  appliesTo?: string
  statistic: string
  thresholdMbps?: number
  requiredShare?: number
  source: { document: string, issuer?: string, date?: string | null, section?: string | null, title?: string, line?: string }
  status: string
  note?: string
}

/** A seed row as stored, columns in the order named beside each list of `GeographyRows`. */
export type GeoSeedRow = ReadonlyArray<string | null>

/** The geography seeds as rows (geo/load-geography.ts builds them), each list in primary-key order. */
export interface GeographyRows {
  /** version, code, name, full_name, name_en */
  provinces: readonly GeoSeedRow[]
  /** version, code, province_code, name, full_name, name_en */
  districts: readonly GeoSeedRow[]
  /** version, code, province_code, district_code, name, full_name, name_en */
  communes: readonly GeoSeedRow[]
  /** new_code, old_code, type ('full' | 'partial') */
  merges: readonly GeoSeedRow[]
  /** new_code, old_code */
  provinceMerges: readonly GeoSeedRow[]
}

/** A target or regulation rule as stored: its id, scope and year beside the whole entry. */
export interface StoredTarget { id: string, scope: string, year: number | null, body: unknown }

export interface GeoArea { code: string, name: string, fullName: string }
export interface GeoCommuneArea extends GeoArea { districtCode: string | null }

/** An old (2025-03) unit merged into a 2025-07 commune, with what is known of it. */
export interface CommuneSource { code: string, name: string | null, districtCode: string | null, provinceCode: string | null, type: string }

/** The rows placement reads (geo/placement.ts). */
export interface PlacementRows {
  communes: Array<{ version: GeoVersion, code: string, provinceCode: string, districtCode: string | null }>
  /** 2025-03 districts. */
  districts: Array<{ code: string, provinceCode: string }>
  merges: Array<{ newCode: string, oldCode: string, type: 'full' | 'partial' }>
}

export interface GeoStore {
  /**
   * Replaces both geography versions and the old -> new mappings with `rows`, in one
   * transaction; writes nothing when the stored rows already equal them (`unchanged`).
   */
  replaceGeography: (rows: GeographyRows) => Promise<{ unchanged: boolean }>
  /** Upserts targets by id in one transaction; rows with other ids are left alone. */
  upsertTargets: (targets: readonly StoredTarget[]) => Promise<void>
  /** Every stored target entry, by id, as stored (targets/targets.ts reads them). */
  targets: () => Promise<TargetEntry[]>
  /** The province of a geography version, or undefined. */
  province: (version: GeoVersion, code: string) => Promise<{ code: string, name: string } | undefined>
  /** The provinces of a geography version, by code. */
  provinces: (version: GeoVersion) => Promise<GeoArea[]>
  /** The 2025-03 districts of a 2025-03 province, by code. */
  districts: (legacyProvinceCode: string) => Promise<GeoArea[]>
  /** The communes of a province (optionally of one 2025-03 district), by code. */
  communes: (version: GeoVersion, provinceCode: string, districtCode?: string) => Promise<GeoCommuneArea[]>
  /** A commune of a geography version, or undefined. */
  commune: (version: GeoVersion, code: string) => Promise<GeoArea | undefined>
  /** The old units merged into a 2025-07 commune, by old code. */
  communeSources: (communeCode: string) => Promise<CommuneSource[]>
  /** The areas of a level (storage/area-levels.ts), all or those of one province, by code. */
  areas: (level: Level, province: string | null) => Promise<GeoArea[]>
  /** The province an area code belongs to at its level. */
  provinceOfArea: (level: Level, code: string) => Promise<string | undefined>
  /** The 2025-07 province an old (2025-03) province merged into, or undefined. */
  provinceSuccessor: (legacyProvinceCode: string) => Promise<{ code: string, name: string } | undefined>
  /** The old (2025-03) provinces merged into a 2025-07 province, by code. */
  provincePredecessors: (provinceCode: string) => Promise<string[]>
  /**
   * What placing these codes needs (geo/placement.ts), in one read: the communes of either
   * version with these codes, the merges naming them on either side, and the communes and
   * 2025-03 districts at the other end of those merges. `null`: the whole geography.
   */
  placementRows: (codes: readonly string[] | null) => Promise<PlacementRows>
}

// ── IPv6: watched services, probe results, evidence as the IPv6 report reads it ──

/** An agency's public service names (migration 030), host names normalised by the caller. */
export interface AgencyServices {
  agencyId: string
  portalHost: string | null
  publicServiceHost: string | null
  mailDomain: string | null
  dnsZone: string | null
  updatedAt: number
}

/** One check of a stored prober run. */
export interface StoredCheck extends CheckResult { runId: string, agencyId: string, checkedAt: number }

/** An agency as the IPv6 report lists it. */
export interface Ipv6ReportAgency { id: string, name: string, communeCode: string, provinceCode: string, legacyDistrictCode: string | null, legacyProvinceCode: string | null }

/**
 * What the IPv6 report reads for one period: the rows of every listed agency; a store may
 * leave out other agencies' rows (the report looks rows up by the listed agencies' ids).
 */
export interface Ipv6PeriodRows {
  /** Every check of each agency's latest prober run in the period. */
  checks: Array<{ agencyId: string, name: CheckName, target: string, colour: Colour, reason: string, at: number }>
  /**
   * Per agency with evidence in the period, its evidence in the window before its last one there,
   * summed up: the last one's time, how many, and per question the largest answer as stored (1 if
   * any result said yes, 0 if all that answered said no, null if none answered). Summed in the
   * store: at 10 M results a province's window holds ~200,000 rows, which cost PostgreSQL's
   * driver far more to hand over than the sums.
   */
  networks: Array<{ agencyId: string, last: number, results: number, capable: number | null, connected: number | null, preferred: number | null }>
  /** Per agency, its latest successful `ipv6_only` result of the period, by agency and result id. */
  ipv6Only: Array<{ agencyId: string, measuredAt: number, raw: string }>
}

export interface Ipv6ReportQuery {
  /** Agencies of one province (in the geography of `provinceColumn`), or all. */
  province?: { column: 'province_code' | 'legacy_province_code', code: string } | undefined
  periods: ReadonlyArray<{ fromMs: number, toMs: number }>
  /** The network-state window before each agency's last evidence in a period. */
  windowMs: number
}

export interface Ipv6Store {
  services: (agencyId: string) => Promise<AgencyServices | undefined>
  /** Every agency's services, by agency id. */
  allServices: () => Promise<AgencyServices[]>
  /** Inserts or replaces an agency's services. */
  setServices: (services: AgencyServices) => Promise<void>
  /** Stores one prober run's checks together: a run is either all there or absent. */
  saveRun: (runId: string, agencyId: string, checks: readonly CheckResult[], checkedAt: number) => Promise<void>
  /** The checks of an agency's latest run before `before` (epoch ms; default: any), by check and target. */
  latestRun: (agencyId: string, before?: number) => Promise<StoredCheck[]>
  /** The IPv6 report's rows, in one read: the agencies by name and id, and each period's rows. */
  reportRows: (q: Ipv6ReportQuery) => Promise<{ agencies: Ipv6ReportAgency[], periods: Ipv6PeriodRows[] }>
}

// ── Health: agents by state, queue figures, what the dashboard's health page reads ──

export interface AgentHealthFilter {
  /** Province code in the given geography version ('2025-03' = former province, '2025-07' = current). */
  province?: { version: GeoVersion, code: string }
  agencyId?: string
}

/** One agent as the public health page reads it (epoch ms; no tokens, addresses or host names). */
export interface AgentHealthRecord {
  id: string
  agencyId: string
  agencyName: string
  communeCode: string
  communeName: string | null
  legacyDistrictCode: string | null
  legacyDistrictName: string | null
  status: AgentRow['status']
  lastSyncAt: number | null
  lastSeenAt: number | null
  agentVersion: string | null
  /** Operating system the agent reported at enrolment (e.g. "win32 10.0.22631", "linux 6.1.0"). */
  os: string | null
  lastResultAt: number | null
  /** Results received at or after `since.day` and `since.week`. */
  resultsDay: number
  resultsWeek: number
}

export interface HealthReader {
  /** Resolves when the database answers a query; rejects otherwise. */
  ping: () => Promise<void>
  /** The agents matching `filter` with their result counts since the two instants, by agency name then age. */
  agentHealth: (filter: AgentHealthFilter, since: { day: number, week: number }) => Promise<AgentHealthRecord[]>
  /** The last sync (epoch ms, or null when never) of every active agent. */
  activeAgentLastSyncs: () => Promise<Array<number | null>>
}

// ── Rate limits: the sliding-window state every collector on one database shares ──

/** One rate limit: at most `max` allowed hits for one key in any interval of `windowMs`. */
export interface RateLimit {
  /** Names the limit in the store, e.g. "sync" or "enrol": each limit counts apart. */
  name: string
  max: number
  windowMs: number
}

/** What the store decided for one hit: allowed, or refused until `retryAt` (epoch ms). */
export type RateLimitDecision = { allowed: true } | { allowed: false, retryAt: number }

export interface RateLimitStore {
  /**
   * Counts a hit at `at` (epoch ms) for `key` under `limit`, as one sliding-window log: the hit
   * is allowed and recorded while fewer than `max` allowed hits fall in (at − windowMs, at];
   * otherwise it is refused, not recorded, and `retryAt` is when the oldest counted hit leaves
   * the window. Atomic across every collector sharing the store, so their sum keeps the limit.
   * Keys idle for a whole window are forgotten.
   */
  hit: (limit: RateLimit, key: string, at: number) => Promise<RateLimitDecision>
}

/**
 * This instance's standing in the election of one piece of once-per-fleet work (the IPv6
 * prober, the start-up rebuilds, the month packs): several collectors on one database run it
 * on one of them only (docs/operations.md). The embedded store has one collector, which leads.
 */
export interface Leadership {
  /** Whether this instance leads now. */
  readonly leads: boolean
  /**
   * Calls `fn` each time this instance becomes the leader (at once when it already leads):
   * a follower takes over when the leader's process or connection dies.
   */
  onLead: (fn: () => void) => void
}

/** One backend's stores, opened together and closed together. */
export interface Stores {
  readonly backend: 'sqlite' | 'postgres'
  readonly fleet: FleetStore
  readonly results: ResultStore
  readonly rollups: RollupReader
  readonly geo: GeoStore
  readonly ipv6: Ipv6Store
  readonly health: HealthReader
  readonly rateLimits: RateLimitStore
  /**
   * Stands for election as the one instance that runs the work named `name`, and keeps
   * standing (taking over when the leader goes) until the stores close.
   */
  elect: (name: string) => Promise<Leadership>
  close: () => Promise<void>
}
