import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { Statement } from 'better-sqlite3'
import type { Db } from './db.js'

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

/** Heartbeat fields kept per agent (the last sync wins). */
export interface HeartbeatRecord {
  agentVersion: string
  configVersion: number | null
  uptimeS: number
  queue: { pending: number, oldestAgeS: number | null, dead: number, bytes: number }
  counters: Record<string, number>
  clock: { offsetMs: number | null, sinceSyncS: number | null }
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

export interface AgentRow {
  id: string
  agencyId: string
  name: string
  status: 'active' | 'revoked' | 'decommissioned'
  createdAt: number
  lastSeenAt: number | null
  agentVersion: string | null
}

export type NewAgency = Omit<Agency, 'id' | 'createdAt' | 'highTechZone'> & { id?: string, highTechZone?: string | null }

/** sha256 of a bearer token: the only form in which a token is stored. */
export function hashToken (token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest()
}

/** 32 random bytes, base64url: the agent's bearer token (fleet-protocol.md §2). */
export function newToken (): string {
  return randomBytes(32).toString('base64url')
}

const AGENCY_COLUMNS = `id, name, category, connection_class AS connectionClass, isp, plan_down_mbps AS planDownMbps,
  plan_up_mbps AS planUpMbps, commune_code AS communeCode, province_code AS provinceCode,
  legacy_commune_code AS legacyCommuneCode, legacy_district_code AS legacyDistrictCode,
  legacy_province_code AS legacyProvinceCode, placement_note AS placementNote, high_tech_zone AS highTechZone, created_at AS createdAt`

const AGENT_COLUMNS = `id, agency_id AS agencyId, name, status, created_at AS createdAt, last_seen_at AS lastSeenAt,
  agent_version AS agentVersion`

export class AgencyStore {
  readonly #db: Db
  readonly #insertAgency
  readonly #insertAgent
  readonly #agentByToken
  readonly #agencyById
  readonly #touchAgent
  #recordHeartbeat: Statement | undefined

  constructor (db: Db) {
    this.#db = db
    this.#insertAgency = db.prepare(`INSERT INTO agency (id, name, category, connection_class, isp, plan_down_mbps, plan_up_mbps,
      commune_code, province_code, legacy_commune_code, legacy_district_code, legacy_province_code, placement_note, high_tech_zone, created_at)
      VALUES (@id, @name, @category, @connectionClass, @isp, @planDownMbps, @planUpMbps, @communeCode, @provinceCode,
      @legacyCommuneCode, @legacyDistrictCode, @legacyProvinceCode, @placementNote, @highTechZone, @createdAt)`)
    this.#insertAgent = db.prepare(`INSERT INTO agent (id, agency_id, name, token_hash, created_at)
      VALUES (@id, @agencyId, @name, @tokenHash, @createdAt)`)
    this.#agentByToken = db.prepare(`SELECT ${AGENT_COLUMNS} FROM agent WHERE token_hash = ?`)
    this.#agencyById = db.prepare(`SELECT ${AGENCY_COLUMNS} FROM agency WHERE id = ?`)
    this.#touchAgent = db.prepare('UPDATE agent SET last_seen_at = ?, agent_version = coalesce(?, agent_version) WHERE id = ?')
  }

  createAgency (input: NewAgency, now = Date.now()): Agency {
    const agency: Agency = { ...input, id: input.id ?? randomUUID(), highTechZone: input.highTechZone ?? null, createdAt: now }
    this.#insertAgency.run(agency)
    return agency
  }

  /** Creates an agent with a fresh token; the token is returned once and never stored. */
  createAgent (agencyId: string, name: string, now = Date.now(), token = newToken()): { agent: AgentRow, token: string } {
    const id = randomUUID()
    this.#insertAgent.run({ id, agencyId, name, tokenHash: hashToken(token), createdAt: now })
    return { agent: this.agentById(id) as AgentRow, token }
  }

  agentByToken (token: string): AgentRow | undefined {
    return this.#agentByToken.get(hashToken(token)) as AgentRow | undefined
  }

  agentById (id: string): AgentRow | undefined {
    return this.#db.prepare(`SELECT ${AGENT_COLUMNS} FROM agent WHERE id = ?`).get(id) as AgentRow | undefined
  }

  agencyById (id: string): Agency | undefined {
    return this.#agencyById.get(id) as Agency | undefined
  }

  agencyByName (name: string): Agency | undefined {
    return this.#db.prepare(`SELECT ${AGENCY_COLUMNS} FROM agency WHERE name = ?`).get(name) as Agency | undefined
  }

  touchAgent (id: string, now: number, agentVersion: string | null): void {
    this.#touchAgent.run(now, agentVersion, id)
  }

  /** Creates an enrolled agent with its host identity; the token is returned once. */
  createEnrolledAgent (agencyId: string, host: { hostname: string, os: string, arch: string, agentVersion: string }, now = Date.now()): { agent: AgentRow, token: string } {
    const created = this.createAgent(agencyId, host.hostname, now)
    this.#db.prepare('UPDATE agent SET hostname = ?, os = ?, arch = ?, agent_version = ? WHERE id = ?')
      .run(host.hostname, host.os, host.arch, host.agentVersion, created.agent.id)
    return { agent: this.agentById(created.agent.id) as AgentRow, token: created.token }
  }

  /** Sets (or, with null, clears) the high-tech zone of an agency; returns false when no such agency exists. */
  setHighTechZone (agencyId: string, zone: string | null): boolean {
    return this.#db.prepare('UPDATE agency SET high_tech_zone = ? WHERE id = ?').run(zone, agencyId).changes === 1
  }

  setPlacementCandidates (agencyId: string, candidates: readonly string[]): void {
    this.#db.prepare('UPDATE agency SET placement_candidates = ? WHERE id = ?').run(JSON.stringify(candidates), agencyId)
  }

  listAgencies (): Array<Agency & { placementCandidates: string[] }> {
    const rows = this.#db.prepare(`SELECT ${AGENCY_COLUMNS}, placement_candidates AS pc FROM agency ORDER BY created_at, id`).all() as Array<Agency & { pc: string }>
    return rows.map(({ pc, ...a }) => ({ ...a, placementCandidates: JSON.parse(pc) as string[] }))
  }

  placementCandidates (agencyId: string): string[] {
    const pc = this.#db.prepare('SELECT placement_candidates FROM agency WHERE id = ?').pluck().get(agencyId) as string | undefined
    return pc === undefined ? [] : JSON.parse(pc) as string[]
  }

  listAgents (): AgentDetail[] {
    return this.#db.prepare(`SELECT a.id, a.agency_id AS agencyId, a.name, a.status, a.created_at AS createdAt,
      a.last_seen_at AS lastSeenAt, a.agent_version AS agentVersion, g.name AS agencyName, a.hostname, a.os, a.arch,
      a.last_sync_at AS lastSyncAt, a.config_version AS configVersion, a.queue_pending AS queuePending,
      a.queue_oldest_age_s AS queueOldestAgeS, a.queue_dead AS queueDead, a.queue_bytes AS queueBytes,
      a.clock_offset_ms AS clockOffsetMs, a.clock_since_sync_s AS clockSinceSyncS
      FROM agent a JOIN agency g ON g.id = a.agency_id ORDER BY g.name, a.created_at, a.id`).all() as AgentDetail[]
  }

  /** Revokes or decommissions an agent; returns false when no such agent exists. */
  setAgentStatus (id: string, status: AgentRow['status'], now = Date.now()): boolean {
    return this.#db.prepare('UPDATE agent SET status = ?, status_changed_at = ? WHERE id = ?').run(status, now, id).changes === 1
  }

  /** Stores the last heartbeat; runs inside the group commit with the results it came with. */
  recordHeartbeat (id: string, hb: HeartbeatRecord, now: number): void {
    this.#recordHeartbeat ??= this.#db.prepare(`UPDATE agent SET last_seen_at = @now, last_sync_at = @now,
      agent_version = @agentVersion, config_version = @configVersion, uptime_s = @uptimeS, queue_pending = @pending,
      queue_oldest_age_s = @oldestAgeS, queue_dead = @dead, queue_bytes = @bytes, counters = @counters,
      clock_offset_ms = @offsetMs, clock_since_sync_s = @sinceSyncS WHERE id = @id`)
    this.#recordHeartbeat.run({
      id,
      now,
      agentVersion: hb.agentVersion,
      configVersion: hb.configVersion,
      uptimeS: hb.uptimeS,
      pending: hb.queue.pending,
      oldestAgeS: hb.queue.oldestAgeS,
      dead: hb.queue.dead,
      bytes: hb.queue.bytes,
      counters: JSON.stringify(hb.counters),
      offsetMs: hb.clock.offsetMs,
      sinceSyncS: hb.clock.sinceSyncS
    })
  }
}

/** What target selection needs of each agency: its category, its commune's 2025-07 names and its high-tech zone. */
export type AgencyScopeRow = [id: string, category: string, communeFullName: string | null, communeName: string | null, highTechZone: string | null]

export function selectAgencyScopes (db: Db): AgencyScopeRow[] {
  return db.prepare(`SELECT g.id, g.category, c.full_name, c.name, g.high_tech_zone FROM agency g
    LEFT JOIN geo_commune c ON c.version = '2025-07' AND c.code = g.commune_code`).raw(true).all() as AgencyScopeRow[]
}
