import Database from 'better-sqlite3'
import { existsSync, renameSync, rmSync } from 'node:fs'
import { migrations } from '../migrations/index.js'

/**
 * Backups of the collector database with SQLite's online backup API: safe while the collector
 * ingests, from another process. The copy is taken by a read connection; the first step copies
 * a few pages and the second all the rest in one step, so the copy is one consistent snapshot
 * (a write between steps only restarts the copy inside that last step, which then runs to the
 * end). The copy goes to `FILE.partial` and is renamed when complete, so FILE is never half
 * written.
 */
export async function backupDatabase (source: string, dest: string): Promise<{ pages: number, bytes: number }> {
  if (!existsSync(source)) throw new Error(`no database at ${source}; give the collector's --data-dir`)
  const src = new Database(source, { readonly: true, fileMustExist: true })
  const partial = `${dest}.partial`
  rmSync(partial, { force: true })
  try {
    src.pragma('busy_timeout = 5000')
    const result = await src.backup(partial, { progress: () => 2_000_000_000 })
    renameSync(partial, dest)
    const pageSize = src.pragma('page_size', { simple: true }) as number
    return { pages: result.totalPages, bytes: result.totalPages * pageSize }
  } catch (err) {
    rmSync(partial, { force: true })
    throw err
  } finally {
    src.close()
  }
}

export interface VerifyReport {
  ok: boolean
  integrity: string[]
  /** Migrations the file has, and those this collector would still apply to it. */
  migrations: { applied: number, missing: string[], unknown: string[] }
  counts: { results: number, agents: number, agencies: number }
  newestResultAt: string | null
}

/** Checks a database file (a backup, or the live one) without changing it. */
export function verifyDatabase (file: string): VerifyReport {
  if (!existsSync(file)) throw new Error(`no such file: ${file}`)
  const db = new Database(file, { readonly: true, fileMustExist: true })
  try {
    const integrity = db.prepare('PRAGMA integrity_check').pluck().all() as string[]
    const applied = new Set(db.prepare('SELECT name FROM schema_migrations').pluck().all() as string[])
    const known = new Set(migrations.map((m) => m.name))
    const count = (table: string): number => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number
    const newest = db.prepare('SELECT max(received_at) FROM result').pluck().get() as number | null
    const report: VerifyReport = {
      ok: false,
      integrity,
      migrations: { applied: applied.size, missing: migrations.map((m) => m.name).filter((n) => !applied.has(n)), unknown: [...applied].filter((n) => !known.has(n)) },
      counts: { results: count('result'), agents: count('agent'), agencies: count('agency') },
      newestResultAt: newest === null ? null : new Date(newest).toISOString()
    }
    report.ok = integrity.length === 1 && integrity[0] === 'ok' && report.migrations.unknown.length === 0
    return report
  } finally {
    db.close()
  }
}
