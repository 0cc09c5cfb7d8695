/**
 * 011: the result table becomes an append-only rowid table with a narrow unique index on
 * (agent_id, result_id), and loses the two area indexes.
 *
 * Why: as a WITHOUT ROWID table clustered on (agent_id, result_id), every ~1 KB row (the
 * `raw` JSON is most of it) was written into its agent's leaf page, so one group commit of
 * 2,000 rows from 1,000 agents dirtied ~1,000 table pages plus two index pages per row;
 * SQLite's own guidance is that WITHOUT ROWID suits rows under ~1/20 of a page. Now rows are
 * appended in arrival order (a few fresh pages per group) and only the ~60-byte index entries
 * land in per-agent places. Idempotency keeps the same key: the unique index is the
 * ON CONFLICT target. The area indexes served no query: reports read the rollups
 * (migration 020), and every read of `result` is by agent (health, agency report, rollup and
 * evidence rebuilds), which the unique index serves.
 */
export const sql = `
CREATE TABLE result_011 (
  id                   INTEGER PRIMARY KEY,
  agent_id             TEXT NOT NULL,
  result_id            TEXT NOT NULL,
  seq                  INTEGER,
  kind                 TEXT NOT NULL,
  schema_version       TEXT NOT NULL,
  status               TEXT NOT NULL,
  measured_at          INTEGER NOT NULL,   -- epoch ms, agent clock as sent
  measured_at_corr     INTEGER NOT NULL,   -- epoch ms, corrected by the agent's clock offset when known
  received_at          INTEGER NOT NULL,   -- epoch ms, collector clock
  clock_flags          INTEGER NOT NULL DEFAULT 0,
  family               INTEGER,
  download_mbps        REAL,
  upload_mbps          REAL,
  idle_latency_ms      REAL,
  loaded_latency_down_ms REAL,
  loaded_latency_up_ms REAL,
  flags                TEXT NOT NULL DEFAULT '',  -- comma-separated validity flags
  confidence           TEXT,
  valid                INTEGER NOT NULL,   -- 1 when the result may count toward targets
  agency_id            TEXT NOT NULL,
  connection_class     TEXT NOT NULL,
  isp                  TEXT NOT NULL,
  commune_code         TEXT NOT NULL,
  province_code        TEXT NOT NULL,
  legacy_district_code TEXT,
  legacy_province_code TEXT,
  payload_sha256       BLOB NOT NULL,
  raw                  TEXT NOT NULL       -- the record as received (canonical JSON of the parsed record)
);
INSERT INTO result_011 (agent_id, result_id, seq, kind, schema_version, status, measured_at, measured_at_corr, received_at,
  clock_flags, family, download_mbps, upload_mbps, idle_latency_ms, loaded_latency_down_ms, loaded_latency_up_ms, flags,
  confidence, valid, agency_id, connection_class, isp, commune_code, province_code, legacy_district_code,
  legacy_province_code, payload_sha256, raw)
SELECT agent_id, result_id, seq, kind, schema_version, status, measured_at, measured_at_corr, received_at,
  clock_flags, family, download_mbps, upload_mbps, idle_latency_ms, loaded_latency_down_ms, loaded_latency_up_ms, flags,
  confidence, valid, agency_id, connection_class, isp, commune_code, province_code, legacy_district_code,
  legacy_province_code, payload_sha256, raw
FROM result ORDER BY received_at, agent_id, result_id;
DROP TABLE result;
ALTER TABLE result_011 RENAME TO result;
CREATE UNIQUE INDEX result_agent_result ON result (agent_id, result_id);
`
