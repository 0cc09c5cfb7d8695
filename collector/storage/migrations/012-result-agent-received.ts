/**
 * 012: (agent_id, received_at) index on result, for the fleet health dashboard's per-agent
 * figures (last result, results in the last 24 h and 7 days). Since migration 011 the table
 * is in arrival order, so without it those counts would fetch every row of the agent; with it
 * they are index-only range scans, and the last result is a single seek. Its entries are
 * small and land per agent like the unique key's, so ingest pays little for it
 * (docs/fleet.md, bench/ingest).
 */
export const sql = `
CREATE INDEX result_agent_received ON result (agent_id, received_at);
`
