/**
 * 031: what each stored result says about the agency network's IPv6 (capable, connected,
 * preferred), written by an ingest listener in the same transaction as the result, so the
 * IPv6 report reads a few small rows instead of every result's raw JSON. Rebuilt from the
 * result table at start when ipv6_evidence_state is missing or older (shared/ipv6-evidence.ts, storage/sqlite/ipv6-evidence.ts).
 */
export const sql = `
CREATE TABLE ipv6_evidence (
  agent_id    TEXT NOT NULL,
  result_id   TEXT NOT NULL,
  agency_id   TEXT NOT NULL,
  kind        TEXT NOT NULL,
  measured_at INTEGER NOT NULL,   -- the result's measured_at_corr, epoch ms
  capable     INTEGER,            -- 1 / 0 / NULL: the result says nothing
  connected   INTEGER,
  preferred   INTEGER,
  PRIMARY KEY (agent_id, result_id)
) WITHOUT ROWID;
CREATE INDEX ipv6_evidence_agency ON ipv6_evidence (agency_id, measured_at);

CREATE TABLE ipv6_evidence_state (
  name     TEXT PRIMARY KEY,
  version  INTEGER NOT NULL,
  built_at INTEGER NOT NULL
);
`
