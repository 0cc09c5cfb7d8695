/**
 * 020: rollups that reports read instead of the raw result table (fleet-protocol.md §15–§16).
 *
 * rollup_agent_month: one row per agent × ICT month × time band × the placement and line
 * attributes stamped on its results. Counters cover every result (coverage: results, skips);
 * the rep_* blobs hold the month's representative samples in ascending order as little-endian
 * float64 — one sample per agent per clock hour and band, the median of that hour's valid
 * tests (i-Speed's "representative samples"). Keeping the samples, not only sums, lets a
 * report compute exact medians and percentiles per agent and per area, monthly or over any
 * run of months, without touching the raw table.
 *
 * rollup_agent_hour: the valid tests of each agent × hour × band (down, up, idle triples,
 * float64, NaN = missing), kept so the hour's representative sample can be recomputed
 * exactly when a late or repeated test arrives; month_id points at the month row holding it.
 *
 * Null legacy codes are stored as '' so they take part in the unique key.
 */
export const sql = `
CREATE TABLE rollup_agent_month (
  id                   INTEGER PRIMARY KEY,
  agent_id             TEXT NOT NULL,
  month                TEXT NOT NULL,            -- 'YYYY-MM', Asia/Ho_Chi_Minh
  band                 TEXT NOT NULL CHECK (band IN ('office', 'evening', 'other', 'unknown')),
  connection_class     TEXT NOT NULL,
  isp                  TEXT NOT NULL,
  agency_id            TEXT NOT NULL,
  commune_code         TEXT NOT NULL,
  province_code        TEXT NOT NULL,
  legacy_district_code TEXT NOT NULL DEFAULT '',
  legacy_province_code TEXT NOT NULL DEFAULT '',
  n_results            INTEGER NOT NULL DEFAULT 0,  -- every kind
  n_speed              INTEGER NOT NULL DEFAULT 0,
  n_valid              INTEGER NOT NULL DEFAULT 0,
  n_skip               INTEGER NOT NULL DEFAULT 0,
  -- per-test sums over valid speed tests (QCVN 34 / 126 use the mean of per-test speeds)
  sum_test_down        REAL NOT NULL DEFAULT 0,
  n_test_up            INTEGER NOT NULL DEFAULT 0,
  sum_test_up          REAL NOT NULL DEFAULT 0,
  n_test_idle          INTEGER NOT NULL DEFAULT 0,
  sum_test_idle        REAL NOT NULL DEFAULT 0,
  n_test_down_ge30     INTEGER NOT NULL DEFAULT 0,
  rep_down             BLOB NOT NULL DEFAULT x'',
  rep_up               BLOB NOT NULL DEFAULT x'',
  rep_idle             BLOB NOT NULL DEFAULT x'',
  UNIQUE (agent_id, month, band, connection_class, isp, agency_id, commune_code, province_code, legacy_district_code, legacy_province_code)
);
CREATE INDEX rollup_agent_month_legacy ON rollup_agent_month (legacy_province_code, month);
CREATE INDEX rollup_agent_month_current ON rollup_agent_month (province_code, month);
CREATE INDEX rollup_agent_month_agency ON rollup_agent_month (agency_id, month);

CREATE TABLE rollup_agent_hour (
  agent_id   TEXT NOT NULL,
  hour_start INTEGER NOT NULL,   -- epoch ms; ICT is UTC+7 so clock hours align with UTC hours
  band       TEXT NOT NULL,
  month_id   INTEGER NOT NULL,
  tests      BLOB NOT NULL,      -- float64 triples (down, up, idle) of the hour's valid tests
  PRIMARY KEY (agent_id, hour_start, band)
) WITHOUT ROWID;

-- Which rollup definition the stored rows were built with; a collector that finds an older
-- (or no) version rebuilds the rollups from the result table once at start.
CREATE TABLE rollup_state (
  name    TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  built_at INTEGER NOT NULL
);
`
