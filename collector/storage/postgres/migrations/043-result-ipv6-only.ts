/**
 * 043 on PostgreSQL: the partial index over the IPv6-only readiness results, as SQLite's 043.
 */
export const sql = `
CREATE INDEX result_ipv6_only ON result (agency_id, measured_at_corr) WHERE kind = 'ipv6_only';
`
