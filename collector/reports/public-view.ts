import type { AgencyReport } from './schemas.js'

/**
 * What a report may show without the admin token (docs/dashboard.md, "What each route
 * shows"): no machine names, addresses or full agent ids. An agent appears by the first 8
 * characters of its id, which is what `tocdo-agent status` prints on the machine itself and
 * what the dashboard shows; the admin API has the rest.
 */
export const publicAgentId = (id: string): string => id.slice(0, 8)

/** The agency report as the public sees it: agents without their machine names, ids shortened. */
export function publicAgencyReport (report: AgencyReport): AgencyReport {
  const shorten = <T extends { agentId: string }>(rows: readonly T[]): T[] => rows.map((r) => ({ ...r, agentId: publicAgentId(r.agentId) }))
  const agents = report.agents.map(({ name: _name, ...a }) => ({ ...a, id: publicAgentId(a.id) }))
  return { ...report, agents, recentResults: shorten(report.recentResults), qcvn34: shorten(report.qcvn34), qcvn126: shorten(report.qcvn126) }
}
