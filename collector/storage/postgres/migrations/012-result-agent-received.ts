/**
 * 012 on PostgreSQL: (agent_id, received_at) on result, for the fleet health page's per-agent
 * figures, as SQLite's 012 (each month's partition gets its part of the index).
 */
export const sql = `
CREATE INDEX result_agent_received ON result (agent_id, received_at);
`
