import type { Db } from '../storage/db.js'
import type { Ingestor } from '../ingest/ingest.js'
import { readEvidence, type Ipv6Block } from './network-state.js'

/**
 * Keeps ipv6_evidence (migration 031) in step with the result table: one row per result that
 * says something about the agency network's IPv6, written inside the ingest transaction.
 * Bump EVIDENCE_VERSION when readEvidence changes meaning: the table is then rebuilt at start.
 */
export const EVIDENCE_VERSION = 1

/**
 * The stored result columns the writer needs (a subset of the ingest's StoredRow): from the
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

export class Ipv6EvidenceWriter {
  readonly #insert
  constructor (db: Db) {
    this.#insert = db.prepare(`INSERT INTO ipv6_evidence (agent_id, result_id, agency_id, kind, measured_at, capable, connected, preferred)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (agent_id, result_id) DO NOTHING`)
  }

  /** Call inside the transaction that stored `rows`. */
  apply (rows: readonly EvidenceInput[]): number {
    let n = 0
    for (const row of rows) {
      const e = evidenceOf(row)
      if (e === null) continue
      this.#insert.run(row.agentId, row.resultId, row.agencyId, row.kind, row.measuredAtCorr, e.capable, e.connected, e.preferred)
      n++
    }
    return n
  }
}

export function ipv6EvidenceCurrent (db: Db): boolean {
  const v = db.prepare("SELECT version FROM ipv6_evidence_state WHERE name = 'ipv6_evidence'").pluck().get() as number | undefined
  return v === EVIDENCE_VERSION
}

/** Rebuilds the table from every stored ipv6/speed result, in keyset pages, in one transaction. */
export function rebuildIpv6Evidence (db: Db, { batch = 5000, now = Date.now() } = {}): { results: number, evidence: number } {
  const writer = new Ipv6EvidenceWriter(db)
  let results = 0
  let evidence = 0
  db.transaction(() => {
    db.prepare('DELETE FROM ipv6_evidence').run()
    // Pages, not an iterator: better-sqlite3 cannot write while an iterator on the connection is open.
    const page = db.prepare(`SELECT agent_id AS agentId, result_id AS resultId, agency_id AS agencyId, kind, measured_at_corr AS measuredAtCorr,
        family, raw FROM result WHERE kind IN ('ipv6', 'speed') AND (agent_id, result_id) > (?, ?) ORDER BY agent_id, result_id LIMIT ?`)
    let after: [string, string] = ['', '']
    for (;;) {
      const chunk = page.all(after[0], after[1], batch) as EvidenceInput[]
      if (chunk.length === 0) break
      evidence += writer.apply(chunk)
      results += chunk.length
      const last = chunk[chunk.length - 1] as EvidenceInput
      after = [last.agentId, last.resultId]
    }
    db.prepare(`INSERT INTO ipv6_evidence_state (name, version, built_at) VALUES ('ipv6_evidence', ?, ?)
      ON CONFLICT (name) DO UPDATE SET version = excluded.version, built_at = excluded.built_at`).run(EVIDENCE_VERSION, now)
  })()
  return { results, evidence }
}

/** Builds the table once if it is missing or older, then keeps it current from every ingest. */
export function attachIpv6Evidence (db: Db, ingestor: Pick<Ingestor, 'onAccepted'>): { rebuilt: ReturnType<typeof rebuildIpv6Evidence> | null } {
  const rebuilt = ipv6EvidenceCurrent(db) ? null : rebuildIpv6Evidence(db)
  const writer = new Ipv6EvidenceWriter(db)
  ingestor.onAccepted((rows) => { writer.apply(rows as unknown as EvidenceInput[]) })
  return { rebuilt }
}
