import type pg from 'pg'
import type { MonthPackKey, MonthRow, RollupScope } from '../stores.js'
import { decodePack, encodePack } from '../month-pack.js'

type Queryable = Pick<pg.ClientBase, 'query'>

/**
 * Month packs on PostgreSQL (migration 021), in layout 2 (../month-pack.ts: varint differences,
 * about a quarter of layout 1's bytes, which is what a bytea costs to hand over), each stamped with its month's pack generation: the month's generation in
 * rollup_change plus that of '*' (a rebuild). Both only rise, so the sum moves whenever either
 * does, and a pack is current exactly while its stamp equals the month's sum now. Ingest never
 * touches packs; a stale pack is ignored by readers and rebuilt by the job.
 */
const GENERATION_OF = (month: string): string => `(coalesce((SELECT generation FROM rollup_change WHERE month = ${month}), 0)
  + coalesce((SELECT generation FROM rollup_change WHERE month = '*'), 0))`

/**
 * The current packs of one province among `months` (closed months), in one statement, by
 * month; a month without a current pack is absent. The packs travel as base64 text (4/3 of
 * their size) rather than as bytea, which node-postgres receives as hex text (twice their
 * size): 12 packs of 1.5 MB read in about two thirds of the time on the loaded 2-core machine
 * (docs/reports.md, "Reports on both stores"). node-postgres's binary mode was no faster.
 */
export async function readPacks (client: Queryable, scope: RollupScope, code: string, months: readonly string[]): Promise<Map<string, MonthRow[]>> {
  const out = new Map<string, MonthRow[]>()
  if (months.length === 0) return out
  const { rows } = await client.query<[string, string]>({
    text: `SELECT p.month, encode(p.pack, 'base64') FROM rollup_month_pack p
      WHERE p.scope = $1 AND p.code = $2 AND p.month = ANY($3::text[]) AND p.generation = ${GENERATION_OF('p.month')}`,
    values: [scope, code, [...months]],
    rowMode: 'array'
  })
  for (const [month, base64] of rows) {
    // PostgreSQL breaks base64 into lines of 76; Node's decoder skips the line breaks.
    const decoded = decodePack(Buffer.from(base64, 'base64'), month)
    if (decoded !== null) out.set(month, decoded)
  }
  return out
}

/** Closed months (before `openMonth`) of each province with rollup rows and no current pack, newest first. */
export async function packsMissing (client: Queryable, scope: RollupScope, openMonth: string): Promise<MonthPackKey[]> {
  const { rows } = await client.query<{ month: string, code: string }>(`SELECT month, code FROM (SELECT DISTINCT r.month, r.${scope} AS code
      FROM rollup_agent_month r
      WHERE r.month < $1 AND NOT EXISTS (SELECT 1 FROM rollup_month_pack p WHERE p.month = r.month AND p.scope = $2 AND p.code = r.${scope}
        AND p.generation = ${GENERATION_OF('r.month')})) s
    ORDER BY month COLLATE "C" DESC, code COLLATE "C"`, [openMonth, scope])
  return rows.map((r) => ({ month: r.month, scope, code: r.code }))
}

/** The month's pack generation in the caller's snapshot. */
export async function packGeneration (client: Queryable, month: string): Promise<number> {
  const { rows } = await client.query<{ g: number }>(`SELECT ${GENERATION_OF('$1')} AS g`, [month])
  return Number(rows[0]?.g ?? 0)
}

/** Stores a pack built from rows read at `generation`, unless a pack of a later generation is there already. */
export async function storePack (client: Queryable, key: MonthPackKey, rows: readonly MonthRow[], generation: number, now: number): Promise<void> {
  await client.query(`INSERT INTO rollup_month_pack (month, scope, code, pack, built_at, generation) VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (month, scope, code) DO UPDATE SET pack = excluded.pack, built_at = excluded.built_at, generation = excluded.generation
    WHERE rollup_month_pack.generation <= excluded.generation`, [key.month, key.scope, key.code, encodePack(rows, 2), now, generation])
}
