import { randomUUID } from 'node:crypto'
import type { Statement } from 'better-sqlite3'
import type { Db } from '../db.js'
import type { AgentRemoteConfig } from '../../../shared/schemas/fleet.js'
import type {
  Agency, AgencyScopeRow, AgentDetail, AgentRow, AuditEntry, EnrolledHost, FleetStore, NewAgency, NewAuditEntry, PlacedAgency
} from '../stores.js'
import { auditEntryOf, type AuditRow } from '../rows.js'

const AGENCY_COLUMNS = `id, name, category, connection_class AS connectionClass, isp, plan_down_mbps AS planDownMbps,
  plan_up_mbps AS planUpMbps, commune_code AS communeCode, province_code AS provinceCode,
  legacy_commune_code AS legacyCommuneCode, legacy_district_code AS legacyDistrictCode,
  legacy_province_code AS legacyProvinceCode, placement_note AS placementNote, high_tech_zone AS highTechZone, created_at AS createdAt`

const AGENT_COLUMNS = `id, agency_id AS agencyId, name, status, created_at AS createdAt, last_seen_at AS lastSeenAt,
  agent_version AS agentVersion`

const AGENT_DETAIL = `SELECT a.id, a.agency_id AS agencyId, a.name, a.status, a.created_at AS createdAt,
  a.last_seen_at AS lastSeenAt, a.agent_version AS agentVersion, g.name AS agencyName, a.hostname, a.os, a.arch,
  a.last_sync_at AS lastSyncAt, a.config_version AS configVersion, a.queue_pending AS queuePending,
  a.queue_oldest_age_s AS queueOldestAgeS, a.queue_dead AS queueDead, a.queue_bytes AS queueBytes,
  a.clock_offset_ms AS clockOffsetMs, a.clock_since_sync_s AS clockSinceSyncS
  FROM agent a JOIN agency g ON g.id = a.agency_id`

type AgencyRow = Agency & { pc: string }
const placed = ({ pc, ...a }: AgencyRow): PlacedAgency => ({ ...a, placementCandidates: JSON.parse(pc) as string[] })

/**
 * The fleet on SQLite. Statements are prepared once; each method runs one statement or one
 * `db.transaction`, and resolves after the commit (synchronous=FULL makes it durable).
 */
export class SqliteFleetStore implements FleetStore {
  readonly #db: Db
  readonly #agencyById: Statement
  readonly #agencyByName: Statement
  readonly #agentById: Statement
  readonly #agentByToken: Statement
  readonly #agentDetail: Statement
  readonly #listAgencies: Statement
  readonly #listAgents: Statement
  readonly #insertCode: Statement
  readonly #codeByHash: Statement
  readonly #useCode: Statement
  readonly #setZone: Statement
  readonly #setStatus: Statement
  readonly #adminToken: Statement
  readonly #insertAdminToken: Statement
  readonly #latestConfig: Statement
  readonly #insertConfig: Statement
  readonly #insertAudit: Statement
  readonly #listAudit: Statement
  readonly #listAuditBefore: Statement

  constructor (db: Db) {
    this.#db = db
    this.#agencyById = db.prepare(`SELECT ${AGENCY_COLUMNS}, placement_candidates AS pc FROM agency WHERE id = ?`)
    this.#agencyByName = db.prepare(`SELECT ${AGENCY_COLUMNS}, placement_candidates AS pc FROM agency WHERE name = ?`)
    this.#agentById = db.prepare(`SELECT ${AGENT_COLUMNS} FROM agent WHERE id = ?`)
    // Agent and agency in one read: every authenticated request starts here.
    this.#agentByToken = db.prepare(`SELECT a.id, a.agency_id AS agencyId, a.name, a.status, a.created_at AS createdAt,
      a.last_seen_at AS lastSeenAt, a.agent_version AS agentVersion,
      g.name AS gName, g.category AS gCategory, g.connection_class AS gConnectionClass, g.isp AS gIsp,
      g.plan_down_mbps AS gPlanDownMbps, g.plan_up_mbps AS gPlanUpMbps, g.commune_code AS gCommuneCode,
      g.province_code AS gProvinceCode, g.legacy_commune_code AS gLegacyCommuneCode, g.legacy_district_code AS gLegacyDistrictCode,
      g.legacy_province_code AS gLegacyProvinceCode, g.placement_note AS gPlacementNote, g.high_tech_zone AS gHighTechZone,
      g.created_at AS gCreatedAt
      FROM agent a JOIN agency g ON g.id = a.agency_id WHERE a.token_hash = ?`)
    this.#agentDetail = db.prepare(`${AGENT_DETAIL} WHERE a.id = ?`)
    this.#listAgencies = db.prepare(`SELECT ${AGENCY_COLUMNS}, placement_candidates AS pc FROM agency ORDER BY created_at, id`)
    this.#listAgents = db.prepare(`${AGENT_DETAIL} ORDER BY g.name, a.created_at, a.id`)
    this.#insertCode = db.prepare('INSERT INTO enrolment_code (code_hash, agency_id, created_at, expires_at) VALUES (?, ?, ?, ?)')
    this.#codeByHash = db.prepare('SELECT agency_id AS agencyId, expires_at AS expiresAt, used_at AS usedAt FROM enrolment_code WHERE code_hash = ?')
    this.#useCode = db.prepare('UPDATE enrolment_code SET used_at = ?, used_by = ? WHERE code_hash = ?')
    this.#setZone = db.prepare('UPDATE agency SET high_tech_zone = ? WHERE id = ?')
    this.#setStatus = db.prepare('UPDATE agent SET status = ?, status_changed_at = ? WHERE id = ?')
    this.#adminToken = db.prepare('SELECT token_hash FROM admin_token WHERE id = 1').pluck()
    this.#insertAdminToken = db.prepare('INSERT INTO admin_token (id, token_hash, created_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING')
    this.#latestConfig = db.prepare('SELECT body FROM remote_config ORDER BY version DESC LIMIT 1').pluck()
    this.#insertConfig = db.prepare(`INSERT INTO remote_config (version, body, created_at) SELECT @version, @body, @now
      WHERE NOT EXISTS (SELECT 1 FROM remote_config WHERE version >= @version)`)
    this.#insertAudit = db.prepare('INSERT INTO admin_audit (at, actor, via, action, target, summary, client_ip, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    this.#listAudit = db.prepare('SELECT * FROM admin_audit ORDER BY id DESC LIMIT ?')
    this.#listAuditBefore = db.prepare('SELECT * FROM admin_audit WHERE id < ? ORDER BY id DESC LIMIT ?')
  }

  async agentByTokenHash (tokenHash: Buffer): Promise<{ agent: AgentRow, agency: Agency } | undefined> {
    const r = this.#agentByToken.get(tokenHash) as Record<string, unknown> | undefined
    if (r === undefined) return undefined
    const agent = { id: r.id, agencyId: r.agencyId, name: r.name, status: r.status, createdAt: r.createdAt, lastSeenAt: r.lastSeenAt, agentVersion: r.agentVersion } as AgentRow
    const agency = {
      id: r.agencyId,
      name: r.gName,
      category: r.gCategory,
      connectionClass: r.gConnectionClass,
      isp: r.gIsp,
      planDownMbps: r.gPlanDownMbps,
      planUpMbps: r.gPlanUpMbps,
      communeCode: r.gCommuneCode,
      provinceCode: r.gProvinceCode,
      legacyCommuneCode: r.gLegacyCommuneCode,
      legacyDistrictCode: r.gLegacyDistrictCode,
      legacyProvinceCode: r.gLegacyProvinceCode,
      placementNote: r.gPlacementNote,
      highTechZone: r.gHighTechZone,
      createdAt: r.gCreatedAt
    } as Agency
    return { agent, agency }
  }

  async agentById (id: string): Promise<AgentRow | undefined> {
    return this.#agentById.get(id) as AgentRow | undefined
  }

  async agencyById (id: string): Promise<PlacedAgency | undefined> {
    const row = this.#agencyById.get(id) as AgencyRow | undefined
    return row === undefined ? undefined : placed(row)
  }

  async agencyByName (name: string): Promise<PlacedAgency | undefined> {
    const row = this.#agencyByName.get(name) as AgencyRow | undefined
    return row === undefined ? undefined : placed(row)
  }

  async listAgencies (): Promise<PlacedAgency[]> {
    return (this.#listAgencies.all() as AgencyRow[]).map(placed)
  }

  async listAgents (): Promise<AgentDetail[]> {
    return this.#listAgents.all() as AgentDetail[]
  }

  async createAgency (input: NewAgency, now: number, enrolmentCode?: { codeHash: Buffer, expiresAt: number }): Promise<PlacedAgency> {
    return this.#db.transaction(() => {
      const agency = insertAgency(this.#db, input, now)
      if (enrolmentCode !== undefined) this.#insertCode.run(enrolmentCode.codeHash, agency.id, now, enrolmentCode.expiresAt)
      return agency
    })()
  }

  async createAgent (agencyId: string, name: string, tokenHash: Buffer, now: number): Promise<AgentRow> {
    return insertAgent(this.#db, agencyId, name, tokenHash, now)
  }

  async issueEnrolmentCode (agencyId: string, codeHash: Buffer, expiresAt: number, now: number): Promise<boolean> {
    return this.#db.transaction(() => {
      if (this.#agencyById.get(agencyId) === undefined) return false
      this.#insertCode.run(codeHash, agencyId, now, expiresAt)
      return true
    })()
  }

  async enrol (codeHash: Buffer, host: EnrolledHost, tokenHash: Buffer, now: number): Promise<{ agent: AgentRow, agency: Agency } | undefined> {
    return this.#db.transaction(() => {
      const code = this.#codeByHash.get(codeHash) as { agencyId: string, expiresAt: number, usedAt: number | null } | undefined
      if (code === undefined || code.usedAt !== null || code.expiresAt <= now) return undefined
      const { placementCandidates: _, ...agency } = placed(this.#agencyById.get(code.agencyId) as AgencyRow)
      const agent = insertAgent(this.#db, agency.id, host.hostname, tokenHash, now, host)
      this.#useCode.run(now, agent.id, codeHash)
      return { agent, agency }
    })()
  }

  async setHighTechZone (agencyId: string, zone: string | null): Promise<PlacedAgency | undefined> {
    return this.#db.transaction(() => {
      if (this.#setZone.run(zone, agencyId).changes !== 1) return undefined
      return placed(this.#agencyById.get(agencyId) as AgencyRow)
    })()
  }

  async setAgentStatus (agentId: string, status: AgentRow['status'], now: number): Promise<AgentDetail | undefined> {
    return this.#db.transaction(() => {
      if (this.#setStatus.run(status, now, agentId).changes !== 1) return undefined
      return this.#agentDetail.get(agentId) as AgentDetail
    })()
  }

  async adminTokenHash (): Promise<Buffer | null> {
    return (this.#adminToken.get() as Buffer | undefined) ?? null
  }

  async storeAdminTokenHash (tokenHash: Buffer, now: number): Promise<boolean> {
    return this.#insertAdminToken.run(tokenHash, now).changes === 1
  }

  async ensureRemoteConfig (fallback: AgentRemoteConfig, now: number): Promise<AgentRemoteConfig> {
    return this.#db.transaction(() => {
      const body = this.#latestConfig.get() as string | undefined
      if (body !== undefined) return JSON.parse(body) as AgentRemoteConfig
      this.#insertConfig.run({ version: fallback.version, body: JSON.stringify(fallback), now })
      return fallback
    })()
  }

  async addRemoteConfig (config: AgentRemoteConfig, now: number): Promise<boolean> {
    return this.#insertConfig.run({ version: config.version, body: JSON.stringify(config), now }).changes === 1
  }

  async recordAudit (e: NewAuditEntry): Promise<number> {
    const info = this.#insertAudit.run(e.at, e.actor, e.via, e.action, e.target, JSON.stringify(e.summary), e.clientIp, e.status)
    return Number(info.lastInsertRowid)
  }

  async listAudit ({ limit, before }: { limit: number, before?: number }): Promise<AuditEntry[]> {
    const rows = (before === undefined ? this.#listAudit.all(limit) : this.#listAuditBefore.all(before, limit)) as AuditRow[]
    return rows.map(auditEntryOf)
  }
}

// Synchronous inserts, the ones the store's transactions run, also for SQLite-specific test
// fixtures that build a database without a collector; nothing outside storage/ calls them.

interface AgentStatements {
  insertAgency: Statement
  insertAgent: Statement
  agentById: Statement
}

const statementsOf = new WeakMap<Db, AgentStatements>()

function statements (db: Db): AgentStatements {
  let s = statementsOf.get(db)
  if (s === undefined) {
    s = {
      insertAgency: db.prepare(`INSERT INTO agency (id, name, category, connection_class, isp, plan_down_mbps, plan_up_mbps,
        commune_code, province_code, legacy_commune_code, legacy_district_code, legacy_province_code, placement_note, high_tech_zone,
        placement_candidates, created_at)
        VALUES (@id, @name, @category, @connectionClass, @isp, @planDownMbps, @planUpMbps, @communeCode, @provinceCode,
        @legacyCommuneCode, @legacyDistrictCode, @legacyProvinceCode, @placementNote, @highTechZone, @pc, @createdAt)`),
      insertAgent: db.prepare(`INSERT INTO agent (id, agency_id, name, token_hash, created_at, hostname, os, arch, agent_version)
        VALUES (@id, @agencyId, @name, @tokenHash, @createdAt, @hostname, @os, @arch, @agentVersion)`),
      agentById: db.prepare(`SELECT ${AGENT_COLUMNS} FROM agent WHERE id = ?`)
    }
    statementsOf.set(db, s)
  }
  return s
}

/** Inserts an agency (with its placement candidates); the agency as stored. */
export function insertAgency (db: Db, input: NewAgency, now: number): PlacedAgency {
  const { placementCandidates = [], ...rest } = input
  const agency: Agency = { ...rest, id: input.id ?? randomUUID(), highTechZone: input.highTechZone ?? null, createdAt: now }
  statements(db).insertAgency.run({ ...agency, pc: JSON.stringify(placementCandidates) })
  return { ...agency, placementCandidates: [...placementCandidates] }
}

/** Inserts an active agent with its token's hash (and, when enrolled, its host identity); the agent as stored. */
export function insertAgent (db: Db, agencyId: string, name: string, tokenHash: Buffer, now: number, host?: EnrolledHost): AgentRow {
  const s = statements(db)
  const id = randomUUID()
  s.insertAgent.run({ id, agencyId, name, tokenHash, createdAt: now, hostname: host?.hostname ?? null, os: host?.os ?? null, arch: host?.arch ?? null, agentVersion: host?.agentVersion ?? null })
  return s.agentById.get(id) as AgentRow
}

export function selectAgencyScopes (db: Db): AgencyScopeRow[] {
  return db.prepare(`SELECT g.id, g.category, c.full_name, c.name, g.high_tech_zone FROM agency g
    LEFT JOIN geo_commune c ON c.version = '2025-07' AND c.code = g.commune_code`).raw(true).all() as AgencyScopeRow[]
}
