/**
 * 010: the fleet — enrolment codes, agent identity and last heartbeat, remote configuration
 * versions and the admin token hash (docs/fleet.md).
 */
export const sql = `
-- Single-use enrolment codes; only the sha256 of the code is kept.
CREATE TABLE enrolment_code (
  code_hash   BLOB PRIMARY KEY,
  agency_id   TEXT NOT NULL REFERENCES agency (id),
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER,
  used_by     TEXT                       -- agent id created with it
) WITHOUT ROWID;
CREATE INDEX enrolment_code_agency ON enrolment_code (agency_id);

-- Candidates of an ambiguous placement (JSON array of legacy codes), reported to the admin.
ALTER TABLE agency ADD COLUMN placement_candidates TEXT NOT NULL DEFAULT '[]';

ALTER TABLE agent ADD COLUMN hostname TEXT;
ALTER TABLE agent ADD COLUMN os TEXT;
ALTER TABLE agent ADD COLUMN arch TEXT;
ALTER TABLE agent ADD COLUMN status_changed_at INTEGER;
-- Last heartbeat, as reported in the sync call (fleet-protocol.md §11).
ALTER TABLE agent ADD COLUMN last_sync_at INTEGER;
ALTER TABLE agent ADD COLUMN config_version INTEGER;
ALTER TABLE agent ADD COLUMN uptime_s REAL;
ALTER TABLE agent ADD COLUMN queue_pending INTEGER;
ALTER TABLE agent ADD COLUMN queue_oldest_age_s REAL;
ALTER TABLE agent ADD COLUMN queue_dead INTEGER;
ALTER TABLE agent ADD COLUMN queue_bytes INTEGER;
ALTER TABLE agent ADD COLUMN counters TEXT;             -- JSON of heartbeat.counters
ALTER TABLE agent ADD COLUMN clock_offset_ms REAL;      -- collector clock - agent clock
ALTER TABLE agent ADD COLUMN clock_since_sync_s REAL;

-- Remote configuration: every version is kept; the highest is in force.
CREATE TABLE remote_config (
  version    INTEGER PRIMARY KEY,
  body       TEXT NOT NULL,              -- AgentRemoteConfig JSON, validated before insert
  created_at INTEGER NOT NULL
);

-- The admin bearer token, as sha256 only (one row).
CREATE TABLE admin_token (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  token_hash BLOB NOT NULL,
  created_at INTEGER NOT NULL
);
`
