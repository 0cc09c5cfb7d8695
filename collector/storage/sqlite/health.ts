import type { Statement } from 'better-sqlite3'
import type { Db } from '../db.js'
import { AREA_LEVELS, provinceLevelOf } from '../area-levels.js'
import type { AgentHealthFilter, AgentHealthRecord, HealthReader } from '../stores.js'

export class SqliteHealthReader implements HealthReader {
  readonly #db: Db
  readonly #ping: Statement
  readonly #activeSyncs: Statement

  constructor (db: Db) {
    this.#db = db
    this.#ping = db.prepare('SELECT 1')
    this.#activeSyncs = db.prepare("SELECT last_sync_at FROM agent WHERE status = 'active'").pluck()
  }

  async ping (): Promise<void> {
    this.#ping.get()
  }

  async agentHealth (filter: AgentHealthFilter, since: { day: number, week: number }): Promise<AgentHealthRecord[]> {
    const where: string[] = []
    const params: Record<string, unknown> = { day: since.day, week: since.week, communeVersion: AREA_LEVELS.commune.version, districtVersion: AREA_LEVELS.legacy_district.version }
    if (filter.province !== undefined) {
      where.push(`g.${provinceLevelOf(filter.province.version).provinceColumn} = @province`)
      params.province = filter.province.code
    }
    if (filter.agencyId !== undefined) {
      where.push('g.id = @agencyId')
      params.agencyId = filter.agencyId
    }
    return this.#db.prepare(`SELECT a.id, a.agency_id AS agencyId, g.name AS agencyName, g.commune_code AS communeCode,
        c.name AS communeName, g.legacy_district_code AS legacyDistrictCode, d.name AS legacyDistrictName,
        a.status, a.last_sync_at AS lastSyncAt, a.last_seen_at AS lastSeenAt, a.agent_version AS agentVersion, a.os AS os,
        (SELECT max(r.received_at) FROM result r WHERE r.agent_id = a.id) AS lastResultAt,
        (SELECT count(*) FROM result r WHERE r.agent_id = a.id AND r.received_at >= @day) AS resultsDay,
        (SELECT count(*) FROM result r WHERE r.agent_id = a.id AND r.received_at >= @week) AS resultsWeek
      FROM agent a JOIN agency g ON g.id = a.agency_id
      LEFT JOIN geo_commune c ON c.version = @communeVersion AND c.code = g.commune_code
      LEFT JOIN geo_district d ON d.version = @districtVersion AND d.code = g.legacy_district_code
      ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''}
      ORDER BY g.name, a.created_at, a.id`).all(params) as AgentHealthRecord[]
  }

  async activeAgentLastSyncs (): Promise<Array<number | null>> {
    return this.#activeSyncs.all() as Array<number | null>
  }
}
