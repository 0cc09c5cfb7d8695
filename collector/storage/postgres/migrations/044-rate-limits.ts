/**
 * 044, PostgreSQL only: the rate limits' sliding windows, shared by every collector on the
 * database (postgres/rate-limits.ts). The embedded store keeps them in memory: one SQLite file
 * has one collector. One row per limit and key: `hits` the allowed hits still in the window
 * (epoch ms, ascending), `allowed` whether the last hit was let in (so the one statement that
 * decides can also answer).
 *
 * UNLOGGED: a hit writes no WAL, so the statement every sync and enrolment makes does not wait
 * for a flush (an ingest bench saw that wait among a group's largest). A crash empties the
 * table, and a standby does not have it: the limits then forget their counts and let a window's
 * worth through again, as the embedded store does on a restart. Nothing acknowledged is in it.
 */
export const sql = `
CREATE UNLOGGED TABLE rate_limit (
  name    TEXT NOT NULL,
  key     TEXT NOT NULL,
  hits    BIGINT[] NOT NULL,
  allowed BOOLEAN NOT NULL,
  PRIMARY KEY (name, key)
);

-- The hits of a window after 'since', ascending.
CREATE FUNCTION rate_limit_window(hits BIGINT[], since BIGINT) RETURNS BIGINT[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN (SELECT coalesce(array_agg(h ORDER BY h), '{}') FROM unnest(hits) AS h WHERE h > since);
`
