/**
 * The collector's storage boundary (docs/storage.md). Everything outside `collector/storage/`
 * reaches the database only through these interfaces; `storage/sqlite/` implements them on the
 * embedded SQLite store.
 *
 * Rules every method keeps, so a second backend can implement the same contract:
 * - it is asynchronous, even where SQLite answers synchronously;
 * - one method is one transaction: no caller ever holds a transaction across modules;
 * - a write resolves only when it is durable;
 * - a read never writes.
 */

import type { GeoVersion, Level } from './area-levels.js'
import type { TargetEntry } from '../targets/targets.js'
import type { CheckName, CheckResult, Colour } from '../ipv6/checks.js'
import type { ItemAck, ResultRecord } from '../../shared/schemas/result.js'
import type { HeartbeatRecord } from './agency-store.js'

// ── Fleet: agencies, agents, enrolment codes, tokens, remote configuration, admin audit ──
export interface FleetStore {}

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
export interface RollupReader {}

// ── Geography (both versions), placement and targets ──

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

/** What the IPv6 report reads for one period. */
export interface Ipv6PeriodRows {
  /** Every check of each agency's latest prober run in the period. */
  checks: Array<{ agencyId: string, name: CheckName, target: string, colour: Colour, reason: string, at: number }>
  /** Per agency, its IPv6 evidence in the window before its last evidence in the period (0/1/null as stored). */
  evidence: Array<{ agencyId: string, at: number, capable: number | null, connected: number | null, preferred: number | null }>
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
export interface HealthReader {}

/** One backend's stores, opened together and closed together. */
export interface Stores {
  readonly backend: 'sqlite'
  readonly fleet: FleetStore
  readonly results: ResultStore
  readonly rollups: RollupReader
  readonly geo: GeoStore
  readonly ipv6: Ipv6Store
  readonly health: HealthReader
  close: () => Promise<void>
}
