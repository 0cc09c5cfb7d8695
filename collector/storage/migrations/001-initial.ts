/**
 * 001: agencies, agents, results, geography and targets.
 *
 * Geography is keyed by (version, code) because the 2025 reform reused 3,315 of the 3,321
 * new commune codes from old units: a bare code does not tell the era (domain.md §7.2).
 * Versions: '2025-03' = last pre-reform list (63 provinces / 696 districts / communes),
 * '2025-07' = current list (34 provinces / 3,321 communes, no districts).
 */
export const sql = `
CREATE TABLE geo_province (
  version   TEXT NOT NULL,
  code      TEXT NOT NULL,
  name      TEXT NOT NULL,
  full_name TEXT NOT NULL,
  name_en   TEXT NOT NULL,
  PRIMARY KEY (version, code)
) WITHOUT ROWID;

CREATE TABLE geo_district (
  version       TEXT NOT NULL,
  code          TEXT NOT NULL,
  province_code TEXT NOT NULL,
  name          TEXT NOT NULL,
  full_name     TEXT NOT NULL,
  name_en       TEXT NOT NULL,
  PRIMARY KEY (version, code)
) WITHOUT ROWID;
CREATE INDEX geo_district_province ON geo_district (version, province_code);

CREATE TABLE geo_commune (
  version       TEXT NOT NULL,
  code          TEXT NOT NULL,
  province_code TEXT NOT NULL,
  district_code TEXT,            -- NULL in the 2025 scheme, which has no district level
  name          TEXT NOT NULL,
  full_name     TEXT NOT NULL,
  name_en       TEXT NOT NULL,
  PRIMARY KEY (version, code)
) WITHOUT ROWID;
CREATE INDEX geo_commune_province ON geo_commune (version, province_code);
CREATE INDEX geo_commune_district ON geo_commune (version, district_code);

-- Old (2025-03) commune -> new (2025-07) commune, 'full' or 'partial' (part of the old
-- commune went elsewhere too).
CREATE TABLE geo_commune_merge (
  new_code TEXT NOT NULL,
  old_code TEXT NOT NULL,
  type     TEXT NOT NULL CHECK (type IN ('full', 'partial')),
  PRIMARY KEY (new_code, old_code)
) WITHOUT ROWID;
CREATE INDEX geo_commune_merge_old ON geo_commune_merge (old_code);

CREATE TABLE geo_province_merge (
  new_code TEXT NOT NULL,
  old_code TEXT NOT NULL,
  PRIMARY KEY (new_code, old_code)
) WITHOUT ROWID;

-- Targets are data with their sources (seeds/targets.json); the JSON row is kept whole.
CREATE TABLE target (
  id        TEXT PRIMARY KEY,
  scope     TEXT NOT NULL,            -- national | provincial | regulation
  year      INTEGER,
  body      TEXT NOT NULL             -- the seed entry as JSON
);

CREATE TABLE agency (
  id                   TEXT PRIMARY KEY,
  name                 TEXT NOT NULL,
  category             TEXT NOT NULL CHECK (category IN ('organisation', 'public_access_point')),
  connection_class     TEXT NOT NULL CHECK (connection_class IN ('fixed', '4g', '5g', 'leased_line')),
  isp                  TEXT NOT NULL,
  plan_down_mbps       REAL,
  plan_up_mbps         REAL,
  -- Placement in both geographies (domain.md §7.4); the input scheme is kept as given.
  commune_code         TEXT NOT NULL,  -- 2025-07 commune
  province_code        TEXT NOT NULL,  -- 2025-07 province
  legacy_commune_code  TEXT,           -- 2025-03 commune, when known
  legacy_district_code TEXT,           -- 2025-03 district, when it can be derived
  legacy_province_code TEXT,
  placement_note       TEXT,           -- how the other scheme was derived, or why it is ambiguous
  created_at           INTEGER NOT NULL
);

CREATE TABLE agent (
  id            TEXT PRIMARY KEY,
  agency_id     TEXT NOT NULL REFERENCES agency (id),
  name          TEXT NOT NULL,
  token_hash    BLOB NOT NULL UNIQUE,   -- sha256 of the bearer token; the token itself is never stored
  status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked', 'decommissioned')),
  created_at    INTEGER NOT NULL,
  last_seen_at  INTEGER,
  agent_version TEXT
);
CREATE INDEX agent_agency ON agent (agency_id);

CREATE TABLE result (
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
  -- Stamped at ingest from the agent's agency (fleet-protocol.md §15)
  agency_id            TEXT NOT NULL,
  connection_class     TEXT NOT NULL,
  isp                  TEXT NOT NULL,
  commune_code         TEXT NOT NULL,
  province_code        TEXT NOT NULL,
  legacy_district_code TEXT,
  legacy_province_code TEXT,
  payload_sha256       BLOB NOT NULL,
  raw                  TEXT NOT NULL,      -- the record exactly as received
  PRIMARY KEY (agent_id, result_id)
) WITHOUT ROWID;
CREATE INDEX result_legacy_district ON result (legacy_province_code, legacy_district_code, measured_at_corr);
CREATE INDEX result_commune ON result (province_code, commune_code, measured_at_corr);
`
