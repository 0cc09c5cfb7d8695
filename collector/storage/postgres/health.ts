import { AREA_LEVELS, provinceLevelOf } from '../area-levels.js'
import type { AgentHealthFilter, AgentHealthRecord, HealthReader } from '../stores.js'
import type { Pool } from './pool.js'

/** What the health page and /health read, on PostgreSQL; each method one statement. */
export class PostgresHealthReader implements HealthReader {
  readonly #pool: Pool

  constructor (pool: Pool) {
    this.#pool = pool
  }

  async ping (): Promise<void> {
    await this.#pool.query('SELECT 1')
  }

  async agentHealth (filter: AgentHealthFilter, since: { day: number, week: number }): Promise<AgentHealthRecord[]> {
    const values: unknown[] = [since.day, since.week, AREA_LEVELS.commune.version, AREA_LEVELS.legacy_district.version]
    const where: string[] = []
    if (filter.province !== undefined) {
      values.push(filter.province.code)
      where.push(`g.${provinceLevelOf(filter.province.version).provinceColumn} = $${values.length}`)
    }
    if (filter.agencyId !== undefined) {
      values.push(filter.agencyId)
      where.push(`g.id = $${values.length}`)
    }
    // The three figures per agent come from the (agent_id, received_at) index (migration 012).
    const { rows } = await this.#pool.query<AgentHealthRecord>(`SELECT a.id, a.agency_id AS "agencyId", g.name AS "agencyName",
        g.commune_code AS "communeCode", c.name AS "communeName", g.legacy_district_code AS "legacyDistrictCode", d.name AS "legacyDistrictName",
        a.status, a.last_sync_at AS "lastSyncAt", a.last_seen_at AS "lastSeenAt", a.agent_version AS "agentVersion", a.os AS os,
        (SELECT max(r.received_at) FROM result r WHERE r.agent_id = a.id) AS "lastResultAt",
        (SELECT count(*) FROM result r WHERE r.agent_id = a.id AND r.received_at >= $1) AS "resultsDay",
        (SELECT count(*) FROM result r WHERE r.agent_id = a.id AND r.received_at >= $2) AS "resultsWeek"
      FROM agent a JOIN agency g ON g.id = a.agency_id
      LEFT JOIN geo_commune c ON c.version = $3 AND c.code = g.commune_code
      LEFT JOIN geo_district d ON d.version = $4 AND d.code = g.legacy_district_code
      ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''}
      ORDER BY g.name COLLATE "C", a.created_at, a.id COLLATE "C"`, values)
    return rows
  }

  async activeAgentLastSyncs (): Promise<Array<number | null>> {
    return (await this.#pool.query<{ t: number | null }>("SELECT last_sync_at AS t FROM agent WHERE status = 'active'")).rows.map((r) => r.t)
  }
}
