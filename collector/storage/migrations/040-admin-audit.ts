/**
 * 040: the audit log of admin actions (docs/operations.md, "Audit log"): who (the admin
 * token's fingerprint, never the token), through what (the CLI or another API client), what
 * (action, target, a small secret-free summary), when (server time), from where (the client
 * address as trustProxy resolves it) and the outcome (HTTP status).
 */
export const sql = `
CREATE TABLE admin_audit (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  at        INTEGER NOT NULL,       -- server time, epoch ms
  actor     TEXT NOT NULL,          -- 'admin:' + first 16 hex of sha256(admin token)
  via       TEXT NOT NULL,          -- 'cli' or 'api'
  action    TEXT NOT NULL,
  target    TEXT,
  summary   TEXT NOT NULL,          -- JSON object, bounded, never a secret
  client_ip TEXT NOT NULL,
  status    INTEGER NOT NULL
);
`
