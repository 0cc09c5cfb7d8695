import { Type, type Static } from '@sinclair/typebox'
import { ClockOffsetMs, ConnectionClass, Count as BoundedCount, IsoDateTime, Mbps, Nullable, Seconds } from './common.js'
import { ItemAck, MAX_BATCH_ITEMS } from './result.js'
import { API_PREFIX } from '../protocol.js'
import { VN_TIME_ZONE } from '../vn-time.js'

/**
 * The fleet wire contract between agents and the collector (docs/fleet.md): enrolment,
 * the sync call (heartbeat + results), remote configuration and the admin API. JSON,
 * camelCase. Both sides validate with these schemas, so an agent and a collector can
 * never disagree on what a valid configuration is.
 */

export const FLEET_PATHS = {
  enroll: `${API_PREFIX}/enroll`,
  sync: `${API_PREFIX}/sync`,
  adminAgencies: `${API_PREFIX}/admin/agencies`,
  adminEnrolmentCodes: `${API_PREFIX}/admin/agencies/:id/enrolment-codes`,
  adminAgency: `${API_PREFIX}/admin/agencies/:id`,
  adminAgents: `${API_PREFIX}/admin/agents`,
  adminRevoke: `${API_PREFIX}/admin/agents/:id/revoke`,
  adminDecommission: `${API_PREFIX}/admin/agents/:id/decommission`,
  adminConfig: `${API_PREFIX}/admin/config`,
  adminAudit: `${API_PREFIX}/admin/audit`
} as const

/** User-Agent prefix of the admin CLI, so the audit log can say an action came through it. */
export const ADMIN_CLI_USER_AGENT_PREFIX = 'tocdo-collector-cli/'

/** Health thresholds on the time since the last sync (fleet-protocol.md §11). */
export const ONLINE_MAX_S = 900
export const STALE_MAX_S = 3600

/** Enrolment code: 16 base32 characters (80 bits), single use, valid 14 days. */
export const ENROLMENT_CODE_PATTERN = '^[A-Z2-7]{16}$'
export const ENROLMENT_CODE_TTL_DAYS = 14

const HhMm = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'Local time HH:MM (24 h)' })
export const TimeWindow = Type.Object({ start: HhMm, end: HhMm }, { additionalProperties: false })
export type TimeWindow = Static<typeof TimeWindow>

/**
 * Declarative configuration sent by the collector: data only, no code. Invalid → refused
 * whole; the previous version stays in force (fleet-protocol.md §13).
 */
export const AgentRemoteConfig = Type.Object({
  version: Type.Integer({ minimum: 1, maximum: 1e9 }),
  schedule: Type.Object({
    fullTestsPerDay: Type.Integer({ minimum: 4, maximum: 6 }),
    latencyEveryMin: Type.Integer({ minimum: 5, maximum: 1440 }),
    ipv6EveryMin: Type.Integer({ minimum: 15, maximum: 10_080 }),
    // Optional: a configuration written before the IPv6-only task keeps its meaning, and the
    // agent then uses the default schedule's period (shared/schedule.ts).
    ipv6OnlyEveryMin: Type.Optional(Type.Integer({ minimum: 60, maximum: 10_080 })),
    officeHours: Type.Array(TimeWindow, { minItems: 1, maxItems: 4 }),
    eveningWindow: TimeWindow,
    timezone: Type.Literal(VN_TIME_ZONE)
  }, { additionalProperties: false }),
  servers: Type.Array(Type.String({ pattern: '^https?://[^\\s/?#]+[^\\s]*$', maxLength: 500 }), { minItems: 1, maxItems: 20, uniqueItems: true }),
  monthlyBudgetMB: Type.Integer({ minimum: 100, maximum: 10_000_000 }),
  maxSecondsPerDirection: Type.Integer({ minimum: 5, maximum: 60 })
}, { additionalProperties: false, $id: 'AgentRemoteConfig' })
export type AgentRemoteConfig = Static<typeof AgentRemoteConfig>

/** Agency fields an agent needs to stamp its results (context.connectionClass, plan speeds). */
export const EnrolledAgency = Type.Object({
  id: Type.String(),
  name: Type.String(),
  communeCode: Type.String(),
  provinceCode: Type.String(),
  legacyDistrictCode: Nullable(Type.String()),
  connectionClass: ConnectionClass,
  category: Type.Union([Type.Literal('organisation'), Type.Literal('public_access_point')]),
  isp: Type.String(),
  planDownMbps: Nullable(Mbps),
  planUpMbps: Nullable(Mbps)
})
export type EnrolledAgency = Static<typeof EnrolledAgency>

export const EnrollRequest = Type.Object({
  code: Type.String({ pattern: ENROLMENT_CODE_PATTERN, description: '16 base32 characters (A–Z, 2–7), upper case' }),
  hostname: Type.String({ minLength: 1, maxLength: 255 }),
  os: Type.String({ minLength: 1, maxLength: 100 }),
  arch: Type.String({ minLength: 1, maxLength: 20 }),
  agentVersion: Type.String({ minLength: 1, maxLength: 40 })
}, { additionalProperties: false })
export type EnrollRequest = Static<typeof EnrollRequest>

export const EnrollReply = Type.Object({
  agentId: Type.String(),
  /** Bearer token, 32 random bytes base64url; returned once, stored by the collector only as sha256. */
  token: Type.String(),
  agency: EnrolledAgency,
  config: AgentRemoteConfig
})
export type EnrollReply = Static<typeof EnrollReply>

const Count = BoundedCount

export const Heartbeat = Type.Object({
  agentVersion: Type.String({ minLength: 1, maxLength: 40 }),
  configVersion: Nullable(Type.Integer({ minimum: 1, maximum: 1e9 })),
  uptimeS: Seconds,
  queue: Type.Object({
    pending: Count,
    oldestAgeS: Nullable(Seconds),
    dead: Count,
    bytes: Count
  }),
  // Stored as JSON: a newer agent may add counters, but only counts, and not without end.
  counters: Type.Object({
    skippedCrossTraffic: Count,
    skippedBudget: Count,
    storageFull: Count,
    missedSlots: Count
  }, { additionalProperties: Count, maxProperties: 64 }),
  clock: Type.Object({
    /** Collector clock − agent clock, ms; null until the agent has an estimate. */
    offsetMs: Nullable(ClockOffsetMs),
    sinceSyncS: Nullable(Seconds)
  })
})
export type Heartbeat = Static<typeof Heartbeat>

/**
 * POST /api/v1/sync body. Results are validated item by item (each gets its own ack), so
 * the envelope only bounds their number. The agent keeps a batch within MAX_BATCH_BYTES; the
 * collector caps the decoded body at its bodyLimitBytes setting.
 */
export const SyncRequest = Type.Object({
  agentId: Type.String({ minLength: 1, maxLength: 64 }),
  sentAt: IsoDateTime,
  heartbeat: Heartbeat,
  results: Type.Array(Type.Unknown(), { minItems: 0, maxItems: MAX_BATCH_ITEMS })
})
export type SyncRequest = Static<typeof SyncRequest>

export const SyncAcks = Type.Object({
  items: Type.Array(ItemAck),
  accepted: Count,
  duplicate: Count,
  conflict: Count,
  rejected: Count
})
export type SyncAcks = Static<typeof SyncAcks>

export const SyncReply = Type.Object({
  serverTime: IsoDateTime,
  acks: SyncAcks,
  /** Present (non-null) only when newer than heartbeat.configVersion. */
  config: Nullable(AgentRemoteConfig),
  nextSyncS: Type.Integer({ minimum: 1 })
})
export type SyncReply = Static<typeof SyncReply>

/** Every error reply of the collector. */
export const ErrorReply = Type.Object({
  code: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String())
})
export type ErrorReply = Static<typeof ErrorReply>

// ---------------------------------------------------------------- admin API

/**
 * The high-tech zone (khu công nghệ cao, khu CNTT tập trung, trung tâm R&D / đổi mới sáng tạo) an
 * agency sits in, by name, e.g. "Khu công nghệ cao Hòa Lạc"; null when in none. Targets for
 * high-tech zones count only these agencies' lines (docs/reports.md §3, "Scope").
 */
const HighTechZone = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S', description: 'name of the high-tech zone the agency is in, e.g. "Khu công nghệ cao Hòa Lạc"; null when in none' })

export const NewAgencyRequest = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 300 }),
  communeCode: Type.String({ pattern: '^[0-9]{5}$' }),
  scheme: Type.Union([Type.Literal('2025-03'), Type.Literal('2025-07')]),
  legacyCommuneCode: Type.Optional(Type.String({ pattern: '^[0-9]{5}$' })),
  /** With scheme '2025-03' when the old commune was split: the new commune the agency belongs to. */
  newCommuneCode: Type.Optional(Type.String({ pattern: '^[0-9]{5}$' })),
  category: Type.Union([Type.Literal('organisation'), Type.Literal('public_access_point')]),
  connectionClass: ConnectionClass,
  isp: Type.String({ minLength: 1, maxLength: 100 }),
  planDownMbps: Nullable(Mbps),
  planUpMbps: Nullable(Mbps),
  highTechZone: Type.Optional(Nullable(HighTechZone))
}, { additionalProperties: false })
export type NewAgencyRequest = Static<typeof NewAgencyRequest>

/** What an admin may change on an agency after it is added. */
export const AgencyUpdateRequest = Type.Object({
  highTechZone: Nullable(HighTechZone)
}, { additionalProperties: false })
export type AgencyUpdateRequest = Static<typeof AgencyUpdateRequest>

export const AgencyView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  category: Type.String(),
  connectionClass: Type.String(),
  isp: Type.String(),
  planDownMbps: Nullable(Type.Number()),
  planUpMbps: Nullable(Type.Number()),
  communeCode: Type.String(),
  provinceCode: Type.String(),
  legacyCommuneCode: Nullable(Type.String()),
  legacyDistrictCode: Nullable(Type.String()),
  legacyProvinceCode: Nullable(Type.String()),
  /** How the other scheme was derived, or why it is ambiguous. */
  placementNote: Nullable(Type.String()),
  /** Candidate legacy communes when the placement is ambiguous; empty otherwise. */
  placementCandidates: Type.Array(Type.String()),
  /** The high-tech zone the agency is in, or null. */
  highTechZone: Nullable(Type.String()),
  createdAt: IsoDateTime
})
export type AgencyView = Static<typeof AgencyView>

export const EnrolmentCodeView = Type.Object({ code: Type.String(), expiresAt: IsoDateTime })
export type EnrolmentCodeView = Static<typeof EnrolmentCodeView>

/** How to install and enrol the agent with a new code, this collector's public URL filled in (docs/agent.md). */
export const InstallInstructions = Type.Object({
  installPage: Type.String(),
  /** The Linux one-liner: fetches install.sh from this collector, which picks, checks and installs the package. */
  linuxCommand: Type.String(),
  windows: Type.Object({
    zipUrl: Nullable(Type.String()),
    sha256: Nullable(Type.String()),
    steps: Type.Array(Type.String())
  }),
  /** Why a package is not available yet (not built), or null. */
  problem: Nullable(Type.String())
})
export type InstallInstructions = Static<typeof InstallInstructions>

export const NewAgencyReply = Type.Object({ agency: AgencyView, enrolment: EnrolmentCodeView, install: Type.Optional(InstallInstructions) })
export type NewAgencyReply = Static<typeof NewAgencyReply>

export const AgentHealthState = Type.Union([Type.Literal('online'), Type.Literal('stale'), Type.Literal('offline'), Type.Literal('never')])
export type AgentHealthState = Static<typeof AgentHealthState>

export const AgentView = Type.Object({
  id: Type.String(),
  agencyId: Type.String(),
  agencyName: Type.String(),
  hostname: Type.String(),
  os: Nullable(Type.String()),
  arch: Nullable(Type.String()),
  status: Type.Union([Type.Literal('active'), Type.Literal('revoked'), Type.Literal('decommissioned')]),
  /** From the last sync: online ≤ 900 s, stale ≤ 3600 s, offline beyond, never if it never synced. */
  state: AgentHealthState,
  lastSeenAt: Nullable(IsoDateTime),
  agentVersion: Nullable(Type.String()),
  /** The agent runs a version older than this collector's or the newest package it serves. */
  outdated: Type.Optional(Type.Boolean()),
  configVersion: Nullable(Type.Integer()),
  queuePending: Nullable(Type.Integer()),
  queueOldestAgeS: Nullable(Type.Number()),
  queueDead: Nullable(Type.Integer()),
  clockOffsetMs: Nullable(Type.Number()),
  createdAt: IsoDateTime
})
export type AgentView = Static<typeof AgentView>

/** One admin action in the audit log (docs/operations.md, "Audit log"). */
export const AuditEntryView = Type.Object({
  id: Type.Integer(),
  at: IsoDateTime,
  actor: Type.String(),
  via: Type.Union([Type.Literal('cli'), Type.Literal('api')]),
  action: Type.String(),
  target: Type.Union([Type.String(), Type.Null()]),
  summary: Type.Record(Type.String(), Type.Unknown()),
  clientIp: Type.String(),
  status: Type.Integer()
})
export type AuditEntryView = Static<typeof AuditEntryView>
export const AuditListReply = Type.Object({ entries: Type.Array(AuditEntryView), nextBefore: Type.Union([Type.Integer(), Type.Null()]) })
export type AuditListReply = Static<typeof AuditListReply>
