/**
 * 031 on PostgreSQL: what each stored result says about the agency network's IPv6, written in
 * the ingest transaction, and the version it was built with; as SQLite's 031.
 */
export const sql = `
CREATE TABLE ipv6_evidence (
  agent_id    TEXT NOT NULL,
  result_id   TEXT NOT NULL,
  agency_id   TEXT NOT NULL,
  kind        TEXT NOT NULL,
  measured_at BIGINT NOT NULL,   -- the result's measured_at_corr, epoch ms
  capable     INTEGER,           -- 1 / 0 / NULL: the result says nothing
  connected   INTEGER,
  preferred   INTEGER,
  PRIMARY KEY (agent_id, result_id)
);
CREATE INDEX ipv6_evidence_agency ON ipv6_evidence (agency_id, measured_at);

CREATE TABLE ipv6_evidence_state (
  name     TEXT PRIMARY KEY,
  version  INTEGER NOT NULL,
  built_at BIGINT NOT NULL
);
`
