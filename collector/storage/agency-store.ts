import { createHash, randomBytes, randomUUID } from 'node:crypto'
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
  createdAt: number
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

export type NewAgency = Omit<Agency, 'id' | 'createdAt'> & { id?: string }

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
  legacy_province_code AS legacyProvinceCode, placement_note AS placementNote, created_at AS createdAt`

const AGENT_COLUMNS = `id, agency_id AS agencyId, name, status, created_at AS createdAt, last_seen_at AS lastSeenAt,
  agent_version AS agentVersion`

export class AgencyStore {
  readonly #db: Db
  readonly #insertAgency
  readonly #insertAgent
  readonly #agentByToken
  readonly #agencyById
  readonly #touchAgent

  constructor (db: Db) {
    this.#db = db
    this.#insertAgency = db.prepare(`INSERT INTO agency (id, name, category, connection_class, isp, plan_down_mbps, plan_up_mbps,
      commune_code, province_code, legacy_commune_code, legacy_district_code, legacy_province_code, placement_note, created_at)
      VALUES (@id, @name, @category, @connectionClass, @isp, @planDownMbps, @planUpMbps, @communeCode, @provinceCode,
      @legacyCommuneCode, @legacyDistrictCode, @legacyProvinceCode, @placementNote, @createdAt)`)
    this.#insertAgent = db.prepare(`INSERT INTO agent (id, agency_id, name, token_hash, created_at)
      VALUES (@id, @agencyId, @name, @tokenHash, @createdAt)`)
    this.#agentByToken = db.prepare(`SELECT ${AGENT_COLUMNS} FROM agent WHERE token_hash = ?`)
    this.#agencyById = db.prepare(`SELECT ${AGENCY_COLUMNS} FROM agency WHERE id = ?`)
    this.#touchAgent = db.prepare('UPDATE agent SET last_seen_at = ?, agent_version = coalesce(?, agent_version) WHERE id = ?')
  }

  createAgency (input: NewAgency, now = Date.now()): Agency {
    const agency: Agency = { ...input, id: input.id ?? randomUUID(), createdAt: now }
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
}
