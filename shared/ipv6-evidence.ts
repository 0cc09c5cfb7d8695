/**
 * What one result record says about its agency network's IPv6 (domain.md §6.1,
 * fleet-protocol.md §14): pure, read by the collector's IPv6 report (collector/ipv6/) and by the
 * store that keeps the ipv6_evidence projection (migration 031) in step with the results.
 */

/** The parts of a result record that say something about IPv6. */
export interface Ipv6Source {
  kind: string
  ipv6: Ipv6Block | null
  serverFamily: number | null
  forcedFamily: number | null
}

export interface Ipv6Block {
  state?: string
  globalAddress?: boolean
  connect6?: boolean | null
  mainTestFamily?: number | null
  preferred?: boolean | null
  checks?: Array<{ name: string, ok: boolean | null }>
}

const SUCCESS_CHECKS = new Set(['connect6', 'reach_literal', 'reach_name', 'forced_v6_download', 'pmtu'])

/** One result → capable / connected / preferred, each true, false or null (says nothing). */
export function readEvidence (e: Ipv6Source): { capable: boolean | null, connected: boolean | null, preferred: boolean | null } {
  let capable: boolean | null = null
  let connected: boolean | null = null
  let preferred: boolean | null = null
  const b = e.ipv6
  if (b !== null) {
    capable = typeof b.globalAddress === 'boolean' ? b.globalAddress : null
    const checks = b.checks ?? []
    const attempted = checks.filter((c) => SUCCESS_CHECKS.has(c.name) && c.ok !== null)
    if (b.connect6 === true || b.state === 'works' || attempted.some((c) => c.ok === true)) connected = true
    // No global address at all is a failed attempt: the agency network cannot use IPv6.
    else if (b.connect6 === false || b.state === 'broken' || b.state === 'none' || attempted.length > 0) connected = false
    const pref = checks.find((c) => c.name === 'preferred')
    if (typeof b.preferred === 'boolean') preferred = b.preferred
    else if (pref !== undefined && pref.ok !== null) preferred = pref.ok
    else if (b.mainTestFamily === 6 || b.mainTestFamily === 4) preferred = b.mainTestFamily === 6
  }
  // A speed test that ran over IPv6 is a working IPv6 connection; when the OS was free to
  // choose the family (not forced), it is also a preference for IPv6 (APNIC "IPv6-preferred").
  if (e.kind === 'speed' && e.serverFamily === 6) {
    connected = true
    if (e.forcedFamily !== 6) preferred ??= true
  }
  return { capable, connected, preferred }
}

/**
 * ipv6_evidence (migration 031) is kept in step with the result table: one row per result that
 * says something about the agency network's IPv6, written inside the ingest transaction
 * (storage/sqlite/ipv6-evidence.ts).
 * Bump EVIDENCE_VERSION when readEvidence changes meaning: the table is then rebuilt at start.
 */
export const EVIDENCE_VERSION = 1

/**
 * The stored result columns the writer needs (a subset of the ingest's ResultRow): from the
 * ingest, the record it already parsed; from a rebuild, the stored `raw` text.
 */
export interface EvidenceInput { agentId: string, resultId: string, agencyId: string, kind: string, measuredAtCorr: number, family?: number | null, raw: string, record?: unknown }

type EvidenceRecord = { ipv6?: Ipv6Block | null, server?: { family?: number | null } | null, download?: { forcedFamily?: number | null } | null }

const MARK = '"ipv6":{'

/** Null when the result says nothing about IPv6; cheap for the many speed results without an ipv6 block. */
export function evidenceOf (row: EvidenceInput): { capable: number | null, connected: number | null, preferred: number | null } | null {
  if (row.kind !== 'ipv6' && row.kind !== 'speed') return null
  const parsed = row.record as EvidenceRecord | undefined
  if (row.kind === 'speed' && row.family !== 6 && (parsed === undefined ? !row.raw.includes(MARK) : (parsed.ipv6 ?? null) === null)) return null
  const record = parsed ?? JSON.parse(row.raw) as EvidenceRecord
  const e = readEvidence({
    kind: row.kind,
    ipv6: record.ipv6 ?? null,
    serverFamily: record.server?.family ?? null,
    forcedFamily: record.download?.forcedFamily ?? null
  })
  if (e.capable === null && e.connected === null && e.preferred === null) return null
  const bit = (v: boolean | null): number | null => v === null ? null : v ? 1 : 0
  return { capable: bit(e.capable), connected: bit(e.connected), preferred: bit(e.preferred) }
}
