/**
 * 043: a partial index over the IPv6-only readiness results (kind 'ipv6_only', a few a day per
 * agent), by agency and measurement time. The IPv6 report reads each agency's latest one in a
 * period (collector/storage/sqlite/ipv6-only.ts); the index holds only these rows.
 */
export const sql = `
CREATE INDEX result_ipv6_only ON result (agency_id, measured_at_corr) WHERE kind = 'ipv6_only';
`
