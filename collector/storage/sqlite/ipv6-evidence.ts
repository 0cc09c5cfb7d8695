import type { Db } from '../db.js'
import { EVIDENCE_VERSION, evidenceOf, type EvidenceInput } from '../../../shared/ipv6-evidence.js'

/** Writes ipv6_evidence rows (migration 031) for the results that say something about IPv6 (shared/ipv6-evidence.ts). */
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
