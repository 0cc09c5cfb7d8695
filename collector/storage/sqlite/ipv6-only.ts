import type { Db } from '../db.js'

/** One agency's latest IPv6-only readiness result in a period: when, and the record as stored. */
export interface Ipv6OnlyRow { agencyId: string, measuredAt: number, raw: string }

/**
 * Per agency, the latest `ipv6_only` result measured in [fromMs, toMs) (served by the partial
 * index of migration 043). Failed runs are left out: they say nothing about the line.
 */
export function latestIpv6OnlyResults (db: Db, fromMs: number, toMs: number): Ipv6OnlyRow[] {
  return db.prepare(`SELECT r.agency_id AS agencyId, r.measured_at_corr AS measuredAt, r.raw
    FROM (SELECT agency_id, max(measured_at_corr) AS t FROM result
      WHERE kind = 'ipv6_only' AND status = 'ok' AND measured_at_corr >= ? AND measured_at_corr < ? GROUP BY agency_id) m
    JOIN result r ON r.agency_id = m.agency_id AND r.measured_at_corr = m.t AND r.kind = 'ipv6_only' AND r.status = 'ok'
    ORDER BY r.agency_id, r.result_id`).all(fromMs, toMs) as Ipv6OnlyRow[]
}
