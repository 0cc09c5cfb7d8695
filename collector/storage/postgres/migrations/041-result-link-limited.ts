/**
 * 041 on PostgreSQL: the partial index over the speed results limited by the machine's own
 * link, as SQLite's 041 (strpos for SQLite's instr).
 */
export const sql = `
CREATE INDEX result_link_limited ON result (measured_at_corr)
  WHERE kind = 'speed' AND status = 'ok' AND valid = 0 AND download_mbps IS NOT NULL
    AND (confidence IS NULL OR confidence <> 'low') AND strpos(flags, 'local_link_limited') > 0;
`
