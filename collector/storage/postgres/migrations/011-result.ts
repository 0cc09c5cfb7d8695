/**
 * 011 on PostgreSQL: the result table in its final form (SQLite's 001 + 011), partitioned by
 * month, with the key table that makes ingest exactly once (collector/storage/postgres/results.ts,
 * docs/storage.md "Results on PostgreSQL").
 *
 * `result` is range-partitioned on measured_at_corr, one partition per Vietnam month
 * (result_YYYY_MM, created by the result store before a group needs it and one month ahead),
 * so retention drops whole months instead of deleting rows one by one, and a month's rows sit
 * together. Partitioning on the measured month rather than on the ULID's time: the ULID is
 * stamped by the agent's clock, which may be wrong; measured_at_corr is corrected, and it is
 * what the rollups' months and retention go by.
 *
 * A unique key on a partitioned table must contain the partition key, and (agent_id,
 * result_id) does not. So exactly-once lives in `result_key`, a narrow table that is not
 * partitioned: its primary key is the ON CONFLICT target of ingest (`INSERT … ON CONFLICT DO
 * NOTHING RETURNING`), and its payload_sha256 tells a duplicate from a conflict without
 * searching the partitions. A second collector inserting the same key waits for the first one's
 * commit and then skips it. measured_at_corr says which partition holds the row; its BRIN index
 * lets retention find the keys of dropped months (keys arrive roughly in time order).
 */
export const sql = `
CREATE TABLE result_key (
  agent_id         TEXT NOT NULL,
  result_id        TEXT NOT NULL,
  payload_sha256   BYTEA NOT NULL,
  measured_at_corr BIGINT NOT NULL,
  PRIMARY KEY (agent_id, result_id)
);
CREATE INDEX result_key_measured ON result_key USING brin (measured_at_corr) WITH (autosummarize = on);

CREATE TABLE result (
  agent_id               TEXT NOT NULL,
  result_id              TEXT NOT NULL,
  seq                    BIGINT,
  kind                   TEXT NOT NULL,
  schema_version         TEXT NOT NULL,
  status                 TEXT NOT NULL,
  measured_at            BIGINT NOT NULL,   -- epoch ms, agent clock as sent
  measured_at_corr       BIGINT NOT NULL,   -- epoch ms, corrected by the agent's clock offset when known
  received_at            BIGINT NOT NULL,   -- epoch ms, collector clock
  clock_flags            INTEGER NOT NULL DEFAULT 0,
  family                 INTEGER,
  download_mbps          DOUBLE PRECISION,
  upload_mbps            DOUBLE PRECISION,
  idle_latency_ms        DOUBLE PRECISION,
  loaded_latency_down_ms DOUBLE PRECISION,
  loaded_latency_up_ms   DOUBLE PRECISION,
  flags                  TEXT NOT NULL DEFAULT '',  -- comma-separated validity flags
  confidence             TEXT,
  valid                  INTEGER NOT NULL,   -- 1 when the result may count toward targets
  agency_id              TEXT NOT NULL,
  connection_class       TEXT NOT NULL,
  isp                    TEXT NOT NULL,
  commune_code           TEXT NOT NULL,
  province_code          TEXT NOT NULL,
  legacy_district_code   TEXT,
  legacy_province_code   TEXT,
  payload_sha256         BYTEA NOT NULL,
  raw                    TEXT NOT NULL       -- the record as received (canonical JSON of the parsed record)
) PARTITION BY RANGE (measured_at_corr);
-- Not unique (result_key is): every read of result by agent (agency page, rebuilds, retention's key check).
CREATE INDEX result_agent_result ON result (agent_id, result_id);
`
