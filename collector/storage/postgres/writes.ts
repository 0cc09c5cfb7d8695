import type pg from 'pg'

type Queryable = Pick<pg.ClientBase, 'query'>

/** One data-modifying statement, its parameters numbered from $1 (and no other `$` in its text). */
export interface Write {
  sql: string
  params: unknown[]
}

/**
 * Runs several writes as one statement, each a data-modifying WITH clause, so a commit group
 * pays one round trip for all of them (docs/fleet.md, "Ingest on both stores"). PostgreSQL runs
 * every such clause exactly once and to completion, all on one snapshot and in no set order
 * among themselves: so the writes must not read each other's rows, and each row they change
 * must be one whose lock the transaction already holds (for ingest, every row written here
 * belongs to an agent the group locked first), or their lock order would be undefined.
 */
export async function runWrites (client: Queryable, writes: readonly Write[]): Promise<void> {
  if (writes.length === 0) return
  if (writes.length === 1) {
    const [w] = writes as [Write]
    await client.query(w.sql, w.params)
    return
  }
  const params: unknown[] = []
  const clauses = writes.map((w, i) => {
    const offset = params.length
    params.push(...w.params)
    return `w${i} AS (${w.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)})`
  })
  await client.query(`WITH ${clauses.join(',\n')} SELECT 1`, params)
}
