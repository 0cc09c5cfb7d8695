/**
 * 001 on PostgreSQL: geography (both versions), targets, agencies and agents: the same logical
 * step as the SQLite migration of that number (collector/storage/migrations/001-initial.ts),
 * written in its final form, as a PostgreSQL store starts at today's schema. Folded in:
 * agency.high_tech_zone (SQLite's 042). The result table is 011 here (its final form).
 *
 * Types: epoch-ms columns are BIGINT (read back as numbers, postgres/pool.ts), REAL is double
 * precision, BLOB is bytea; JSON stays TEXT, stored and read exactly as on SQLite.
 * Geography is keyed by (version, code) because the 2025 reform reused 3,315 of the 3,321
 * new commune codes from old units (docs/domain.md §7.2).
 */
export const sql = `
CREATE TABLE geo_province (
  version   TEXT NOT NULL,
  code      TEXT NOT NULL,
  name      TEXT NOT NULL,
  full_name TEXT NOT NULL,
  name_en   TEXT NOT NULL,
  PRIMARY KEY (version, code)
);

CREATE TABLE geo_district (
  version       TEXT NOT NULL,
  code          TEXT NOT NULL,
  province_code TEXT NOT NULL,
  name          TEXT NOT NULL,
  full_name     TEXT NOT NULL,
  name_en       TEXT NOT NULL,
  PRIMARY KEY (version, code)
);
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
);
CREATE INDEX geo_commune_province ON geo_commune (version, province_code);
CREATE INDEX geo_commune_district ON geo_commune (version, district_code);
CREATE INDEX geo_commune_code ON geo_commune (code);

-- Old (2025-03) commune -> new (2025-07) commune, 'full' or 'partial'.
CREATE TABLE geo_commune_merge (
  new_code TEXT NOT NULL,
  old_code TEXT NOT NULL,
  type     TEXT NOT NULL CHECK (type IN ('full', 'partial')),
  PRIMARY KEY (new_code, old_code)
);
CREATE INDEX geo_commune_merge_old ON geo_commune_merge (old_code);

CREATE TABLE geo_province_merge (
  new_code TEXT NOT NULL,
  old_code TEXT NOT NULL,
  PRIMARY KEY (new_code, old_code)
);

-- Targets are data with their sources (seeds/targets.json); the JSON entry is kept whole.
CREATE TABLE target (
  id    TEXT PRIMARY KEY,
  scope TEXT NOT NULL,          -- national | provincial | regulation
  year  INTEGER,
  body  TEXT NOT NULL           -- the seed entry as JSON
);

CREATE TABLE agency (
  id                   TEXT PRIMARY KEY,
  name                 TEXT NOT NULL,
  category             TEXT NOT NULL CHECK (category IN ('organisation', 'public_access_point')),
  connection_class     TEXT NOT NULL CHECK (connection_class IN ('fixed', '4g', '5g', 'leased_line')),
  isp                  TEXT NOT NULL,
  plan_down_mbps       DOUBLE PRECISION,
  plan_up_mbps         DOUBLE PRECISION,
  -- Placement in both geographies (domain.md §7.4); the input scheme is kept as given.
  commune_code         TEXT NOT NULL,  -- 2025-07 commune
  province_code        TEXT NOT NULL,  -- 2025-07 province
  legacy_commune_code  TEXT,           -- 2025-03 commune, when known
  legacy_district_code TEXT,           -- 2025-03 district, when it can be derived
  legacy_province_code TEXT,
  placement_note       TEXT,           -- how the other scheme was derived, or why it is ambiguous
  high_tech_zone       TEXT,           -- the high-tech zone's name, or NULL (SQLite's 042)
  created_at           BIGINT NOT NULL
);
CREATE INDEX agency_name ON agency (name);

CREATE TABLE agent (
  id            TEXT PRIMARY KEY,
  agency_id     TEXT NOT NULL REFERENCES agency (id),
  name          TEXT NOT NULL,
  token_hash    BYTEA NOT NULL UNIQUE,  -- sha256 of the bearer token; the token itself is never stored
  status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked', 'decommissioned')),
  created_at    BIGINT NOT NULL,
  last_seen_at  BIGINT,
  agent_version TEXT
);
CREATE INDEX agent_agency ON agent (agency_id);
`
