import { randomUUID } from 'node:crypto'
import type { AgentRemoteConfig } from '../../../shared/schemas/fleet.js'
import type {
  Agency, AgentDetail, AgentRow, AuditEntry, EnrolledHost, FleetStore, NewAgency, NewAuditEntry, PlacedAgency
} from '../stores.js'
import { inTransaction, type Pool, type PoolClient } from './pool.js'
import { auditEntryOf, type AuditRow } from '../rows.js'

// Aliases are quoted: PostgreSQL folds unquoted names to lower case.
const agencyColumns = (t: string): string => `${t}id, ${t}name, ${t}category, ${t}connection_class AS "connectionClass", ${t}isp,
  ${t}plan_down_mbps AS "planDownMbps", ${t}plan_up_mbps AS "planUpMbps", ${t}commune_code AS "communeCode",
  ${t}province_code AS "provinceCode", ${t}legacy_commune_code AS "legacyCommuneCode", ${t}legacy_district_code AS "legacyDistrictCode",
  ${t}legacy_province_code AS "legacyProvinceCode", ${t}placement_note AS "placementNote", ${t}high_tech_zone AS "highTechZone",
  ${t}created_at AS "createdAt"`
const AGENCY_COLUMNS = agencyColumns('')

const AGENT_COLUMNS = `id, agency_id AS "agencyId", name, status, created_at AS "createdAt", last_seen_at AS "lastSeenAt",
  agent_version AS "agentVersion"`

const AGENT_DETAIL_COLUMNS = `a.id, a.agency_id AS "agencyId", a.name, a.status, a.created_at AS "createdAt",
  a.last_seen_at AS "lastSeenAt", a.agent_version AS "agentVersion", g.name AS "agencyName", a.hostname, a.os, a.arch,
  a.last_sync_at AS "lastSyncAt", a.config_version AS "configVersion", a.queue_pending AS "queuePending",
  a.queue_oldest_age_s AS "queueOldestAgeS", a.queue_dead AS "queueDead", a.queue_bytes AS "queueBytes",
  a.clock_offset_ms AS "clockOffsetMs", a.clock_since_sync_s AS "clockSinceSyncS"`

// Text sorts byte-wise (COLLATE "C", the order of SQLite's BINARY collation), whatever the
// database's default collation: both stores list in the same order.
const AGENT_ORDER = 'ORDER BY g.name COLLATE "C", a.created_at, a.id COLLATE "C"'

type AgencyRow = Agency & { pc: string }
const placed = ({ pc, ...a }: AgencyRow): PlacedAgency => ({ ...a, placementCandidates: JSON.parse(pc) as string[] })

const INSERT_AGENT = `INSERT INTO agent (id, agency_id, name, token_hash, created_at, hostname, os, arch, agent_version)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${AGENT_COLUMNS}`

const INSERT_CODE = 'INSERT INTO enrolment_code (code_hash, agency_id, created_at, expires_at) VALUES ($1, $2, $3, $4)'

/**
 * The fleet on PostgreSQL (docs/storage.md). Each method is one statement or one
 * transaction on one pooled connection, and resolves after the commit.
 */
export class PostgresFleetStore implements FleetStore {
  readonly #pool: Pool

  constructor (pool: Pool) {
    this.#pool = pool
  }

  async agentByTokenHash (tokenHash: Buffer): Promise<{ agent: AgentRow, agency: Agency } | undefined> {
    // Agent and agency in one read: every authenticated request starts here.
    const { rows } = await this.#pool.query<{ agent: AgentRow } & Agency>({
      name: 'tocdo_agent_by_token',
      text: `SELECT ${agencyColumns('g.')},
        json_build_object('id', a.id, 'agencyId', a.agency_id, 'name', a.name, 'status', a.status, 'createdAt', a.created_at,
          'lastSeenAt', a.last_seen_at, 'agentVersion', a.agent_version) AS agent
        FROM agent a JOIN agency g ON g.id = a.agency_id WHERE a.token_hash = $1`,
      values: [tokenHash]
    })
    const r = rows[0]
    if (r === undefined) return undefined
    const { agent, ...agency } = r
    return { agent, agency }
  }

  async agentById (id: string): Promise<AgentRow | undefined> {
    return (await this.#pool.query<AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agent WHERE id = $1`, [id])).rows[0]
  }

  async agencyById (id: string): Promise<PlacedAgency | undefined> {
    return await agencyWhere(this.#pool, 'id', id)
  }

  async agencyByName (name: string): Promise<PlacedAgency | undefined> {
    return await agencyWhere(this.#pool, 'name', name)
  }

  async listAgencies (): Promise<PlacedAgency[]> {
    const { rows } = await this.#pool.query<AgencyRow>(`SELECT ${AGENCY_COLUMNS}, placement_candidates AS pc FROM agency ORDER BY created_at, id COLLATE "C"`)
    return rows.map(placed)
  }

  async listAgents (): Promise<AgentDetail[]> {
    return (await this.#pool.query<AgentDetail>(`SELECT ${AGENT_DETAIL_COLUMNS} FROM agent a JOIN agency g ON g.id = a.agency_id ${AGENT_ORDER}`)).rows
  }

  async createAgency (input: NewAgency, now: number, enrolmentCode?: { codeHash: Buffer, expiresAt: number }): Promise<PlacedAgency> {
    return await inTransaction(this.#pool, async (c) => {
      const agency = await insertAgency(c, input, now)
      if (enrolmentCode !== undefined) await c.query(INSERT_CODE, [enrolmentCode.codeHash, agency.id, now, enrolmentCode.expiresAt])
      return agency
    })
  }

  async createAgent (agencyId: string, name: string, tokenHash: Buffer, now: number): Promise<AgentRow> {
    return await insertAgent(this.#pool, agencyId, name, tokenHash, now)
  }

  async issueEnrolmentCode (agencyId: string, codeHash: Buffer, expiresAt: number, now: number): Promise<boolean> {
    const { rowCount } = await this.#pool.query(`INSERT INTO enrolment_code (code_hash, agency_id, created_at, expires_at)
      SELECT $1, id, $3, $4 FROM agency WHERE id = $2`, [codeHash, agencyId, now, expiresAt])
    return rowCount === 1
  }

  async enrol (codeHash: Buffer, host: EnrolledHost, tokenHash: Buffer, now: number): Promise<{ agent: AgentRow, agency: Agency } | undefined> {
    return await inTransaction(this.#pool, async (c) => {
      // Taking the code is one conditional update: of two enrolments racing with one code, the
      // second waits on the row, sees it used, and updates nothing.
      const code = (await c.query<{ agencyId: string }>(`UPDATE enrolment_code SET used_at = $2
        WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING agency_id AS "agencyId"`, [codeHash, now])).rows[0]
      if (code === undefined) return undefined
      const { placementCandidates: _, ...agency } = (await agencyWhere(c, 'id', code.agencyId)) as PlacedAgency
      const agent = await insertAgent(c, agency.id, host.hostname, tokenHash, now, host)
      await c.query('UPDATE enrolment_code SET used_by = $2 WHERE code_hash = $1', [codeHash, agent.id])
      return { agent, agency }
    })
  }

  async setHighTechZone (agencyId: string, zone: string | null): Promise<PlacedAgency | undefined> {
    const { rows } = await this.#pool.query<AgencyRow>(`UPDATE agency SET high_tech_zone = $1 WHERE id = $2
      RETURNING ${AGENCY_COLUMNS}, placement_candidates AS pc`, [zone, agencyId])
    return rows[0] === undefined ? undefined : placed(rows[0])
  }

  async setAgentStatus (agentId: string, status: AgentRow['status'], now: number): Promise<AgentDetail | undefined> {
    return await inTransaction(this.#pool, async (c) => {
      const { rowCount } = await c.query('UPDATE agent SET status = $1, status_changed_at = $2 WHERE id = $3', [status, now, agentId])
      if (rowCount !== 1) return undefined
      return (await c.query<AgentDetail>(`SELECT ${AGENT_DETAIL_COLUMNS} FROM agent a JOIN agency g ON g.id = a.agency_id WHERE a.id = $1`, [agentId])).rows[0]
    })
  }

  async adminTokenHash (): Promise<Buffer | null> {
    return (await this.#pool.query<{ h: Buffer }>('SELECT token_hash AS h FROM admin_token WHERE id = 1')).rows[0]?.h ?? null
  }

  async storeAdminTokenHash (tokenHash: Buffer, now: number): Promise<boolean> {
    const { rowCount } = await this.#pool.query('INSERT INTO admin_token (id, token_hash, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING', [tokenHash, now])
    return rowCount === 1
  }

  async ensureRemoteConfig (fallback: AgentRemoteConfig, now: number): Promise<AgentRemoteConfig> {
    return await inTransaction(this.#pool, async (c) => {
      // Two collectors starting together: one inserts, the other's insert does nothing and its
      // read (a new snapshot per statement) finds the stored version.
      const { rowCount } = await c.query(`INSERT INTO remote_config (version, body, created_at) SELECT $1, $2, $3
        WHERE NOT EXISTS (SELECT 1 FROM remote_config) ON CONFLICT (version) DO NOTHING`, [fallback.version, JSON.stringify(fallback), now])
      if (rowCount === 1) return fallback
      const body = (await c.query<{ body: string }>('SELECT body FROM remote_config ORDER BY version DESC LIMIT 1')).rows[0]?.body
      return body === undefined ? fallback : JSON.parse(body) as AgentRemoteConfig
    })
  }

  async addRemoteConfig (config: AgentRemoteConfig, now: number): Promise<boolean> {
    const { rowCount } = await this.#pool.query(`INSERT INTO remote_config (version, body, created_at) SELECT $1, $2, $3
      WHERE NOT EXISTS (SELECT 1 FROM remote_config WHERE version >= $1) ON CONFLICT (version) DO NOTHING`, [config.version, JSON.stringify(config), now])
    return rowCount === 1
  }

  async recordAudit (e: NewAuditEntry): Promise<number> {
    const { rows } = await this.#pool.query<{ id: number }>(`INSERT INTO admin_audit (at, actor, via, action, target, summary, client_ip, status)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, [e.at, e.actor, e.via, e.action, e.target, JSON.stringify(e.summary), e.clientIp, e.status])
    return (rows[0] as { id: number }).id
  }

  async listAudit ({ limit, before }: { limit: number, before?: number }): Promise<AuditEntry[]> {
    const { rows } = before === undefined
      ? await this.#pool.query<AuditRow>('SELECT * FROM admin_audit ORDER BY id DESC LIMIT $1', [limit])
      : await this.#pool.query<AuditRow>('SELECT * FROM admin_audit WHERE id < $1 ORDER BY id DESC LIMIT $2', [before, limit])
    return rows.map(auditEntryOf)
  }
}

type Queryable = Pool | PoolClient

async function agencyWhere (q: Queryable, column: 'id' | 'name', value: string): Promise<PlacedAgency | undefined> {
  // Names are not unique: the oldest agency of a name, as SQLite's rowid order gives it.
  const { rows } = await q.query<AgencyRow>(`SELECT ${AGENCY_COLUMNS}, placement_candidates AS pc FROM agency WHERE ${column} = $1
    ORDER BY created_at, id COLLATE "C" LIMIT 1`, [value])
  return rows[0] === undefined ? undefined : placed(rows[0])
}

async function insertAgency (q: Queryable, input: NewAgency, now: number): Promise<PlacedAgency> {
  const { placementCandidates = [], ...rest } = input
  const a: Agency = { ...rest, id: input.id ?? randomUUID(), highTechZone: input.highTechZone ?? null, createdAt: now }
  await q.query(`INSERT INTO agency (id, name, category, connection_class, isp, plan_down_mbps, plan_up_mbps, commune_code, province_code,
      legacy_commune_code, legacy_district_code, legacy_province_code, placement_note, high_tech_zone, placement_candidates, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
  [a.id, a.name, a.category, a.connectionClass, a.isp, a.planDownMbps, a.planUpMbps, a.communeCode, a.provinceCode,
    a.legacyCommuneCode, a.legacyDistrictCode, a.legacyProvinceCode, a.placementNote, a.highTechZone, JSON.stringify(placementCandidates), a.createdAt])
  return { ...a, placementCandidates: [...placementCandidates] }
}

async function insertAgent (q: Queryable, agencyId: string, name: string, tokenHash: Buffer, now: number, host?: EnrolledHost): Promise<AgentRow> {
  const { rows } = await q.query<AgentRow>(INSERT_AGENT,
    [randomUUID(), agencyId, name, tokenHash, now, host?.hostname ?? null, host?.os ?? null, host?.arch ?? null, host?.agentVersion ?? null])
  return rows[0] as AgentRow
}
