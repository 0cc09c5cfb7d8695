import type { CheckResult } from '../../../shared/ipv6-checks.js'
import type { AgencyServices, Ipv6PeriodRows, Ipv6ReportAgency, Ipv6ReportQuery, Ipv6Store, StoredCheck } from '../stores.js'
import { inTransaction, type Pool, type PoolClient } from './pool.js'

const COLUMNS = `agency_id AS "agencyId", portal_host AS "portalHost", public_service_host AS "publicServiceHost",
  mail_domain AS "mailDomain", dns_zone AS "dnsZone", updated_at AS "updatedAt"`

/**
 * One period's rows; with `agencies`, those of these agencies only (a province's report reads
 * its agencies' rows through their (agency_id, time) indexes instead of scanning every
 * agency's rows of the period).
 */
async function periodRows (c: PoolClient, fromMs: number, toMs: number, windowMs: number, agencies: string[] | null): Promise<Ipv6PeriodRows> {
  const only = (n: number): string => agencies === null ? '' : ` AND agency_id = ANY($${n}::text[])`
  const checks = (await c.query<Ipv6PeriodRows['checks'][number]>(`SELECT c.agency_id AS "agencyId", c.check_name AS name, c.target, c.colour,
      c.reason, c.checked_at AS at
    FROM ipv6_check c JOIN (SELECT agency_id, max(checked_at) AS t FROM ipv6_check WHERE checked_at >= $1 AND checked_at < $2${only(3)} GROUP BY agency_id) m
      ON m.agency_id = c.agency_id AND c.checked_at = m.t`, agencies === null ? [fromMs, toMs] : [fromMs, toMs, agencies])).rows
  // Per agency, the observations in the window before its last one inside the period, summed up
  // as SQLite's (ipv6_evidence is kept by the result store inside each ingest transaction).
  // LATERAL: each agency's window is one range of its (agency_id, measured_at) index. As a plain
  // join the planner hashed a scan of the whole table instead (285,714 rows for 296 wanted at
  // 2 M results; docs/reports.md).
  const networks = (await c.query<Ipv6PeriodRows['networks'][number]>(`WITH last AS (
      SELECT agency_id, max(measured_at) AS t FROM ipv6_evidence WHERE measured_at >= $1 AND measured_at < $2${only(4)} GROUP BY agency_id)
    SELECT last.agency_id AS "agencyId", last.t AS last, w.results, w.capable, w.connected, w.preferred
    FROM last CROSS JOIN LATERAL (
      SELECT count(*)::int AS results, max(e.capable) AS capable, max(e.connected) AS connected, max(e.preferred) AS preferred
      FROM ipv6_evidence e WHERE e.agency_id = last.agency_id AND e.measured_at > last.t - $3 AND e.measured_at <= last.t) w`,
  agencies === null ? [fromMs, toMs, windowMs] : [fromMs, toMs, windowMs, agencies])).rows
  // Per agency, its latest successful ipv6_only result of the period (partial index of migration 043).
  // Failed runs are left out: they say nothing about the line.
  const ipv6Only = (await c.query<Ipv6PeriodRows['ipv6Only'][number]>(`SELECT r.agency_id AS "agencyId", r.measured_at_corr AS "measuredAt", r.raw
    FROM (SELECT agency_id, max(measured_at_corr) AS t FROM result
      WHERE kind = 'ipv6_only' AND status = 'ok' AND measured_at_corr >= $1 AND measured_at_corr < $2${only(3)} GROUP BY agency_id) m
    JOIN result r ON r.agency_id = m.agency_id AND r.measured_at_corr = m.t AND r.kind = 'ipv6_only' AND r.status = 'ok'
    ORDER BY r.agency_id COLLATE "C", r.result_id COLLATE "C"`, agencies === null ? [fromMs, toMs] : [fromMs, toMs, agencies])).rows
  return { checks, networks, ipv6Only }
}

/** Watched services, prober runs and the IPv6 report's rows, on PostgreSQL. */
export class PostgresIpv6Store implements Ipv6Store {
  readonly #pool: Pool

  constructor (pool: Pool) {
    this.#pool = pool
  }

  async services (agencyId: string): Promise<AgencyServices | undefined> {
    return (await this.#pool.query<AgencyServices>(`SELECT ${COLUMNS} FROM agency_service WHERE agency_id = $1`, [agencyId])).rows[0]
  }

  async allServices (): Promise<AgencyServices[]> {
    return (await this.#pool.query<AgencyServices>(`SELECT ${COLUMNS} FROM agency_service ORDER BY agency_id COLLATE "C"`)).rows
  }

  async setServices (row: AgencyServices): Promise<void> {
    await this.#pool.query(`INSERT INTO agency_service (agency_id, portal_host, public_service_host, mail_domain, dns_zone, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (agency_id) DO UPDATE SET portal_host = excluded.portal_host, public_service_host = excluded.public_service_host,
        mail_domain = excluded.mail_domain, dns_zone = excluded.dns_zone, updated_at = excluded.updated_at`,
    [row.agencyId, row.portalHost, row.publicServiceHost, row.mailDomain, row.dnsZone, row.updatedAt])
  }

  async saveRun (runId: string, agencyId: string, checks: readonly CheckResult[], checkedAt: number): Promise<void> {
    if (checks.length === 0) return
    // One statement: the run's checks are stored together or not at all.
    await this.#pool.query(`INSERT INTO ipv6_check (run_id, agency_id, check_name, target, colour, reason, evidence, checked_at)
      SELECT $1, $2, c.name, c.target, c.colour, c.reason, c.evidence, $3
      FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) AS c (name, target, colour, reason, evidence)`,
    [runId, agencyId, checkedAt, checks.map((c) => c.check), checks.map((c) => c.target), checks.map((c) => c.colour),
      checks.map((c) => c.reason), checks.map((c) => JSON.stringify(c.evidence))])
  }

  async latestRun (agencyId: string, before = Number.MAX_SAFE_INTEGER): Promise<StoredCheck[]> {
    const { rows } = await this.#pool.query<Omit<StoredCheck, 'evidence'> & { evidence: string }>(`SELECT run_id AS "runId", agency_id AS "agencyId",
        check_name AS "check", target, colour, reason, evidence, checked_at AS "checkedAt" FROM ipv6_check
      WHERE run_id = (SELECT run_id FROM ipv6_check WHERE agency_id = $1 AND checked_at < $2 ORDER BY checked_at DESC, run_id COLLATE "C" DESC LIMIT 1)
      ORDER BY check_name COLLATE "C", target COLLATE "C"`, [agencyId, before])
    return rows.map((r) => ({ ...r, evidence: JSON.parse(r.evidence) as Record<string, unknown> }))
  }

  async reportRows (q: Ipv6ReportQuery): Promise<{ agencies: Ipv6ReportAgency[], periods: Ipv6PeriodRows[] }> {
    // One snapshot: the agencies and every period's rows are one state of the database.
    return await inTransaction(this.#pool, async (c) => {
      const agencies = (await c.query<Ipv6ReportAgency>(`SELECT id, name, commune_code AS "communeCode", province_code AS "provinceCode",
          legacy_district_code AS "legacyDistrictCode", legacy_province_code AS "legacyProvinceCode" FROM agency
        ${q.province === undefined ? '' : `WHERE ${q.province.column} = $1`} ORDER BY name COLLATE "C", id COLLATE "C"`,
      q.province === undefined ? [] : [q.province.code])).rows
      const periods: Ipv6PeriodRows[] = []
      const ids = q.province === undefined ? null : agencies.map((a) => a.id)
      for (const p of q.periods) periods.push(await periodRows(c, p.fromMs, p.toMs, q.windowMs, ids))
      return { agencies, periods }
    }, { snapshot: true })
  }
}
