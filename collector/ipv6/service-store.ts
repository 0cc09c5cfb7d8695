import type { Db } from '../storage/db.js'
import type { CheckResult } from './checks.js'

/** An agency's public service names (migration 030). */
export interface AgencyServices {
  agencyId: string
  portalHost: string | null
  publicServiceHost: string | null
  mailDomain: string | null
  dnsZone: string | null
  updatedAt: number
}

export interface StoredCheck extends CheckResult { runId: string, agencyId: string, checkedAt: number }

const COLUMNS = `agency_id AS agencyId, portal_host AS portalHost, public_service_host AS publicServiceHost,
  mail_domain AS mailDomain, dns_zone AS dnsZone, updated_at AS updatedAt`

/** Host names are stored lowercased without a trailing dot, so checks and reports match. */
export function normaliseHost (name: string | null | undefined): string | null {
  if (name === null || name === undefined) return null
  const n = name.trim().toLowerCase().replace(/\.$/, '')
  return n === '' ? null : n
}

export class ServiceStore {
  readonly #db: Db
  constructor (db: Db) { this.#db = db }

  get (agencyId: string): AgencyServices | undefined {
    return this.#db.prepare(`SELECT ${COLUMNS} FROM agency_service WHERE agency_id = ?`).get(agencyId) as AgencyServices | undefined
  }

  all (): AgencyServices[] {
    return this.#db.prepare(`SELECT ${COLUMNS} FROM agency_service ORDER BY agency_id`).all() as AgencyServices[]
  }

  set (input: Omit<AgencyServices, 'updatedAt'>, now = Date.now()): AgencyServices {
    const row: AgencyServices = {
      agencyId: input.agencyId,
      portalHost: normaliseHost(input.portalHost),
      publicServiceHost: normaliseHost(input.publicServiceHost),
      mailDomain: normaliseHost(input.mailDomain),
      dnsZone: normaliseHost(input.dnsZone),
      updatedAt: now
    }
    this.#db.prepare(`INSERT INTO agency_service (agency_id, portal_host, public_service_host, mail_domain, dns_zone, updated_at)
      VALUES (@agencyId, @portalHost, @publicServiceHost, @mailDomain, @dnsZone, @updatedAt)
      ON CONFLICT (agency_id) DO UPDATE SET portal_host = excluded.portal_host, public_service_host = excluded.public_service_host,
        mail_domain = excluded.mail_domain, dns_zone = excluded.dns_zone, updated_at = excluded.updated_at`).run(row)
    return row
  }

  /** Stores one run's checks together: a run is either all there or absent. */
  saveRun (runId: string, agencyId: string, checks: readonly CheckResult[], checkedAt: number): void {
    const insert = this.#db.prepare(`INSERT INTO ipv6_check (run_id, agency_id, check_name, target, colour, reason, evidence, checked_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
    this.#db.transaction(() => {
      for (const c of checks) insert.run(runId, agencyId, c.check, c.target, c.colour, c.reason, JSON.stringify(c.evidence), checkedAt)
    })()
  }

  /** The checks of an agency's latest run, optionally the latest before `before` (epoch ms). */
  latestRun (agencyId: string, before = Number.MAX_SAFE_INTEGER): StoredCheck[] {
    const rows = this.#db.prepare(`SELECT run_id AS runId, agency_id AS agencyId, check_name AS "check", target, colour, reason, evidence,
        checked_at AS checkedAt FROM ipv6_check
      WHERE run_id = (SELECT run_id FROM ipv6_check WHERE agency_id = ? AND checked_at < ? ORDER BY checked_at DESC, run_id DESC LIMIT 1)
      ORDER BY check_name, target`).all(agencyId, before) as Array<Omit<StoredCheck, 'evidence'> & { evidence: string }>
    return rows.map((r) => ({ ...r, evidence: JSON.parse(r.evidence) as Record<string, unknown> }))
  }
}
