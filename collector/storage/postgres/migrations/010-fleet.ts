/**
 * 010 on PostgreSQL: the fleet (enrolment codes, agent identity and last heartbeat, remote
 * configuration versions, the admin token hash), as SQLite's 010 (docs/fleet.md).
 */
export const sql = `
-- Single-use enrolment codes; only the sha256 of the code is kept.
CREATE TABLE enrolment_code (
  code_hash   BYTEA PRIMARY KEY,
  agency_id   TEXT NOT NULL REFERENCES agency (id),
  created_at  BIGINT NOT NULL,
  expires_at  BIGINT NOT NULL,
  used_at     BIGINT,
  used_by     TEXT                       -- agent id created with it
);
CREATE INDEX enrolment_code_agency ON enrolment_code (agency_id);

-- Candidates of an ambiguous placement (JSON array of legacy codes), reported to the admin.
ALTER TABLE agency ADD COLUMN placement_candidates TEXT NOT NULL DEFAULT '[]';

ALTER TABLE agent
  ADD COLUMN hostname TEXT,
  ADD COLUMN os TEXT,
  ADD COLUMN arch TEXT,
  ADD COLUMN status_changed_at BIGINT,
  -- Last heartbeat, as reported in the sync call (fleet-protocol.md §11).
  ADD COLUMN last_sync_at BIGINT,
  ADD COLUMN config_version INTEGER,
  ADD COLUMN uptime_s DOUBLE PRECISION,
  ADD COLUMN queue_pending BIGINT,
  ADD COLUMN queue_oldest_age_s DOUBLE PRECISION,
  ADD COLUMN queue_dead BIGINT,
  ADD COLUMN queue_bytes BIGINT,
  ADD COLUMN counters TEXT,                      -- JSON of heartbeat.counters
  ADD COLUMN clock_offset_ms DOUBLE PRECISION,   -- collector clock - agent clock
  ADD COLUMN clock_since_sync_s DOUBLE PRECISION;

-- Remote configuration: every version is kept; the highest is in force.
CREATE TABLE remote_config (
  version    INTEGER PRIMARY KEY,
  body       TEXT NOT NULL,              -- AgentRemoteConfig JSON, validated before insert
  created_at BIGINT NOT NULL
);

-- The admin bearer token, as sha256 only (one row).
CREATE TABLE admin_token (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  token_hash BYTEA NOT NULL,
  created_at BIGINT NOT NULL
);
`
