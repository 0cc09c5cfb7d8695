/**
 * 021 on PostgreSQL: one pack per province (either geography) and closed month, as SQLite's 021
 * (the layouts: collector/storage/month-pack.ts), built by the month-pack job only.
 *
 * Instead of SQLite's triggers, which delete a month's packs in the transaction that changes
 * its rows, a pack records the month's generation in rollup_change (migration 020) it was
 * built at; a reader uses it only while that generation is current, and the job rebuilds it
 * otherwise. Ingest never writes here, so collectors committing groups never wait on packs.
 */
export const sql = `
CREATE TABLE rollup_month_pack (
  month      TEXT NOT NULL,          -- 'YYYY-MM', Asia/Ho_Chi_Minh
  scope      TEXT NOT NULL CHECK (scope IN ('legacy_province_code', 'province_code')),
  code       TEXT NOT NULL,
  pack       BYTEA NOT NULL,
  built_at   BIGINT NOT NULL,
  generation BIGINT NOT NULL,        -- rollup_change's generation of the month (and of '*') when built
  PRIMARY KEY (month, scope, code)
);
`
