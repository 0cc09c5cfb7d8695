/**
 * 041: a partial index over the speed results limited by the machine's own link, ordered by
 * measurement time. Reports read them for each line's lower bound (docs/methodology.md §11);
 * they are a small share of the table, so without it every agency or area report would scan
 * every result of the period, and with it the index holds only these rows.
 */
export const sql = `
CREATE INDEX result_link_limited ON result (measured_at_corr)
  WHERE kind = 'speed' AND status = 'ok' AND valid = 0 AND download_mbps IS NOT NULL
    AND (confidence IS NULL OR confidence <> 'low') AND instr(flags, 'local_link_limited') > 0;
`
