/**
 * What a report may show without the admin token (docs/dashboard.md, "What each route
 * shows"): no machine names, addresses or full agent ids. An agent appears by the first 8
 * characters of its id, which is what `tocdo-agent status` prints on the machine itself and
 * what the dashboard shows; the admin API has the rest.
 */
export const publicAgentId = (id: string): string => id.slice(0, 8)

type Row = Record<string, unknown>

/** The agency report as the public sees it: agents without their machine names, ids shortened. */
export function publicAgencyReport (report: Record<string, unknown>): Record<string, unknown> {
  const shorten = (rows: unknown): unknown => Array.isArray(rows)
    ? (rows as Row[]).map((r) => ({ ...r, ...(typeof r.agentId === 'string' ? { agentId: publicAgentId(r.agentId) } : {}) }))
    : rows
  const agents = Array.isArray(report.agents)
    ? (report.agents as Row[]).map(({ name: _name, ...a }) => ({ ...a, id: publicAgentId(String(a.id)) }))
    : report.agents
  return { ...report, agents, recentResults: shorten(report.recentResults), qcvn34: shorten(report.qcvn34), qcvn126: shorten(report.qcvn126) }
}
