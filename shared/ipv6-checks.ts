/**
 * The IPv6 readiness checks of an agency's public services (domain.md §6.2), the NIST-style
 * colour each gets, and one check's result: what the prober stores and the IPv6 report shows.
 */
export const CHECK_NAMES = ['web_aaaa', 'https_v6', 'ns_v6', 'mx_v6', 'dnssec'] as const
export type CheckName = typeof CHECK_NAMES[number]
export type Colour = 'green' | 'yellow' | 'red' | 'gray'

export interface CheckResult {
  check: CheckName
  target: string
  colour: Colour
  reason: string
  evidence: Record<string, unknown>
}
