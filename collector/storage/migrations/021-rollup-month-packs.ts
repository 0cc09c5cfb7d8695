/**
 * 021: one blob per province (either geography) and closed ICT month holding every
 * rollup_agent_month row of it (collector/reports/month-pack.ts), so a rolling 12-month report
 * reads 12 contiguous blobs instead of tens of thousands of rows scattered through the table.
 *
 * A pack is derived data, built by the first report that reads its month. The triggers drop
 * every pack of a month in the same transaction as any change to that month's rollup rows
 * (the ingest listener, a late result, a rebuild, a manual fix through another connection), so
 * a pack never outlives the rows it was built from. Existing databases start with no packs.
 */
export const sql = `
CREATE TABLE rollup_month_pack (
  month    TEXT NOT NULL,          -- 'YYYY-MM', Asia/Ho_Chi_Minh
  scope    TEXT NOT NULL CHECK (scope IN ('legacy_province_code', 'province_code')),
  code     TEXT NOT NULL,
  pack     BLOB NOT NULL,
  built_at INTEGER NOT NULL,
  PRIMARY KEY (month, scope, code)
);
CREATE TRIGGER rollup_month_pack_stale_insert AFTER INSERT ON rollup_agent_month BEGIN
  DELETE FROM rollup_month_pack WHERE month = NEW.month;
END;
CREATE TRIGGER rollup_month_pack_stale_update AFTER UPDATE ON rollup_agent_month BEGIN
  DELETE FROM rollup_month_pack WHERE month IN (OLD.month, NEW.month);
END;
CREATE TRIGGER rollup_month_pack_stale_delete AFTER DELETE ON rollup_agent_month BEGIN
  DELETE FROM rollup_month_pack WHERE month = OLD.month;
END;
`
