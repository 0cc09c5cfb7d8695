import type pg from 'pg'
import { EVIDENCE_VERSION, evidenceOf, type EvidenceInput } from '../../../shared/ipv6-evidence.js'
import { runWrites, type Write } from './writes.js'

type Queryable = Pick<pg.ClientBase, 'query'>

/**
 * The ipv6_evidence rows (migration 031) of the results that say something about IPv6
 * (shared/ipv6-evidence.ts), as one statement to run inside the transaction that stores
 * `rows`, with the number of evidence rows it writes (null when none). The rows' keys were
 * just inserted by that transaction, so no other one contends for them.
 */
export function ipv6EvidenceWrite (rows: readonly EvidenceInput[]): (Write & { rows: number }) | null {
  const out: Array<[string, string, string, string, number, number | null, number | null, number | null]> = []
  for (const row of rows) {
    const e = evidenceOf(row)
    if (e === null) continue
    out.push([row.agentId, row.resultId, row.agencyId, row.kind, row.measuredAtCorr, e.capable, e.connected, e.preferred])
  }
  if (out.length === 0) return null
  return {
    sql: `INSERT INTO ipv6_evidence (agent_id, result_id, agency_id, kind, measured_at, capable, connected, preferred)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::int[], $7::int[], $8::int[])
    ON CONFLICT (agent_id, result_id) DO NOTHING`,
    params: [0, 1, 2, 3, 4, 5, 6, 7].map((i) => out.map((r) => r[i])),
    rows: out.length
  }
}

export async function ipv6EvidenceCurrent (client: Queryable): Promise<boolean> {
  const { rows } = await client.query<{ version: number }>("SELECT version FROM ipv6_evidence_state WHERE name = 'ipv6_evidence'")
  return rows[0]?.version === EVIDENCE_VERSION
}

/**
 * Rebuilds the table from every stored ipv6/speed result, in pages through a cursor, in one
 * transaction on `client` (locked against ingest's evidence writes, as the rollup rebuild is).
 * Null when it was current already (another collector rebuilt it first).
 */
export async function rebuildIpv6Evidence (client: pg.PoolClient, { batch = 5000, now = Date.now() } = {}): Promise<{ results: number, evidence: number } | null> {
  await client.query('BEGIN')
  try {
    await client.query('LOCK TABLE ONLY result IN ACCESS SHARE MODE; LOCK TABLE ipv6_evidence IN EXCLUSIVE MODE')
    if (await ipv6EvidenceCurrent(client)) { await client.query('COMMIT'); return null }
    await client.query('DELETE FROM ipv6_evidence')
    await client.query(`DECLARE evidence_rebuild NO SCROLL CURSOR FOR SELECT agent_id AS "agentId", result_id AS "resultId", agency_id AS "agencyId",
      kind, measured_at_corr AS "measuredAtCorr", family, raw FROM result WHERE kind IN ('ipv6', 'speed')
      ORDER BY agent_id COLLATE "C", result_id COLLATE "C"`)
    let results = 0
    let evidence = 0
    for (;;) {
      const chunk = await client.query<EvidenceInput>(`FETCH ${batch} FROM evidence_rebuild`)
      if (chunk.rows.length === 0) break
      const write = ipv6EvidenceWrite(chunk.rows)
      if (write !== null) await runWrites(client, [write])
      evidence += write?.rows ?? 0
      results += chunk.rows.length
    }
    await client.query('CLOSE evidence_rebuild')
    await client.query(`INSERT INTO ipv6_evidence_state (name, version, built_at) VALUES ('ipv6_evidence', $1, $2)
      ON CONFLICT (name) DO UPDATE SET version = excluded.version, built_at = excluded.built_at`, [EVIDENCE_VERSION, now])
    await client.query('COMMIT')
    return { results, evidence }
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  }
}
