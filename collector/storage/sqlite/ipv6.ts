import type { Db } from '../db.js'
import type { AgencyServices, Ipv6PeriodRows, Ipv6ReportAgency, Ipv6ReportQuery, Ipv6Store, StoredCheck } from '../stores.js'
import type { CheckResult } from '../../../shared/ipv6-checks.js'
import { latestIpv6OnlyResults } from './ipv6-only.js'

const COLUMNS = `agency_id AS agencyId, portal_host AS portalHost, public_service_host AS publicServiceHost,
  mail_domain AS mailDomain, dns_zone AS dnsZone, updated_at AS updatedAt`

function periodRows (db: Db, fromMs: number, toMs: number, windowMs: number): Ipv6PeriodRows {
  const checks = db.prepare(`SELECT c.agency_id AS agencyId, c.check_name AS name, c.target, c.colour, c.reason, c.checked_at AS at
    FROM ipv6_check c JOIN (SELECT agency_id, max(checked_at) AS t FROM ipv6_check WHERE checked_at >= ? AND checked_at < ? GROUP BY agency_id) m
      ON m.agency_id = c.agency_id AND c.checked_at = m.t`).all(fromMs, toMs) as Ipv6PeriodRows['checks']
  // Per agency, the observations in the window before its last one inside the period, summed up
  // (ipv6_evidence is kept by the result store inside each ingest transaction, ipv6-evidence.ts;
  // every row says something, and max() of 1/0/NULL is "any yes", "all no" or "none answered").
  const networks = db.prepare(`WITH last AS (
      SELECT agency_id, max(measured_at) AS t FROM ipv6_evidence WHERE measured_at >= ? AND measured_at < ? GROUP BY agency_id)
    SELECT e.agency_id AS agencyId, last.t AS last, count(*) AS results, max(e.capable) AS capable, max(e.connected) AS connected,
      max(e.preferred) AS preferred
    FROM last JOIN ipv6_evidence e ON e.agency_id = last.agency_id AND e.measured_at > last.t - ? AND e.measured_at <= last.t
    GROUP BY e.agency_id, last.t`)
    .all(fromMs, toMs, windowMs) as Ipv6PeriodRows['networks']
  return { checks, networks, ipv6Only: latestIpv6OnlyResults(db, fromMs, toMs) }
}

export class SqliteIpv6Store implements Ipv6Store {
  constructor (protected readonly db: Db) {}

  async services (agencyId: string): Promise<AgencyServices | undefined> {
    return this.db.prepare(`SELECT ${COLUMNS} FROM agency_service WHERE agency_id = ?`).get(agencyId) as AgencyServices | undefined
  }

  async allServices (): Promise<AgencyServices[]> {
    return this.db.prepare(`SELECT ${COLUMNS} FROM agency_service ORDER BY agency_id`).all() as AgencyServices[]
  }

  async setServices (row: AgencyServices): Promise<void> {
    this.db.prepare(`INSERT INTO agency_service (agency_id, portal_host, public_service_host, mail_domain, dns_zone, updated_at)
      VALUES (@agencyId, @portalHost, @publicServiceHost, @mailDomain, @dnsZone, @updatedAt)
      ON CONFLICT (agency_id) DO UPDATE SET portal_host = excluded.portal_host, public_service_host = excluded.public_service_host,
        mail_domain = excluded.mail_domain, dns_zone = excluded.dns_zone, updated_at = excluded.updated_at`).run(row)
  }

  async saveRun (runId: string, agencyId: string, checks: readonly CheckResult[], checkedAt: number): Promise<void> {
    const insert = this.db.prepare(`INSERT INTO ipv6_check (run_id, agency_id, check_name, target, colour, reason, evidence, checked_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
    this.db.transaction(() => {
      for (const c of checks) insert.run(runId, agencyId, c.check, c.target, c.colour, c.reason, JSON.stringify(c.evidence), checkedAt)
    })()
  }

  async latestRun (agencyId: string, before = Number.MAX_SAFE_INTEGER): Promise<StoredCheck[]> {
    const rows = this.db.prepare(`SELECT run_id AS runId, agency_id AS agencyId, check_name AS "check", target, colour, reason, evidence,
        checked_at AS checkedAt FROM ipv6_check
      WHERE run_id = (SELECT run_id FROM ipv6_check WHERE agency_id = ? AND checked_at < ? ORDER BY checked_at DESC, run_id DESC LIMIT 1)
      ORDER BY check_name, target`).all(agencyId, before) as Array<Omit<StoredCheck, 'evidence'> & { evidence: string }>
    return rows.map((r) => ({ ...r, evidence: JSON.parse(r.evidence) as Record<string, unknown> }))
  }

  async reportRows (q: Ipv6ReportQuery): Promise<{ agencies: Ipv6ReportAgency[], periods: Ipv6PeriodRows[] }> {
    const db = this.db
    // One read transaction: the agencies and every period's rows are one snapshot.
    return db.transaction(() => {
      const sql = `SELECT id, name, commune_code AS communeCode, province_code AS provinceCode, legacy_district_code AS legacyDistrictCode,
        legacy_province_code AS legacyProvinceCode FROM agency ${q.province === undefined ? '' : `WHERE ${q.province.column} = ?`} ORDER BY name, id`
      const agencies = (q.province === undefined ? db.prepare(sql).all() : db.prepare(sql).all(q.province.code)) as Ipv6ReportAgency[]
      return { agencies, periods: q.periods.map((p) => periodRows(db, p.fromMs, p.toMs, q.windowMs)) }
    })()
  }
}
