import type { Command } from 'commander'
import { TocdoError } from '../../shared/errors.js'
import { databaseFile } from '../plugins/db.js'
import { databaseUrlProblem, redactDatabaseUrl } from '../storage/database-url.js'
import { openStoreMigration } from '../storage/index.js'
import { compareReports } from './migrate-reports.js'

const out = (text: string): void => { process.stdout.write(text.endsWith('\n') ? text : text + '\n') }

/** A long difference (a report's JSON) cut for the terminal. */
const cut = (s: string, n = 300): string => s.length <= n ? s : `${s.slice(0, n)}… (${s.length} chars)`

/**
 * `tocdo-collector migrate --to postgres://…` (docs/storage.md, "Moving a province to
 * PostgreSQL"): copies the data dir's SQLite store into PostgreSQL, then verifies both hold the
 * same: per agent the count of results and a digest of their payload hashes, and every report.
 * Exit 1 on a conflict or any difference. The URL is only ever printed without its password.
 */
export function registerMigrate (program: Command): void {
  program.command('migrate')
    .description('copy the collector\'s SQLite store into a PostgreSQL database (its schema migrated first), then verify both hold the same results and reports; safe to re-run; exit 1 on any difference')
    .requiredOption('--to <url>', 'the PostgreSQL database, postgres://user:password@host:5432/database')
    .option('--data-dir <dir>', 'the collector\'s data directory (env TOCDO_DATA_DIR, default ./data)')
    .option('--batch <rows>', 'rows per insert', '1000')
    .action(async (flags: { to: string, dataDir?: string, batch: string }) => {
      const problem = databaseUrlProblem(flags.to)
      if (problem !== null) throw new TocdoError('TOCDO_ERR_VALIDATION', `--to: ${problem}`, { details: { field: 'to' } })
      const batchRows = Number(flags.batch)
      if (!Number.isInteger(batchRows) || batchRows < 1 || batchRows > 10_000) {
        throw new TocdoError('TOCDO_ERR_VALIDATION', `--batch=${flags.batch} is not a row count; give a whole number from 1 to 10000`, { details: { field: 'batch' } })
      }
      const file = databaseFile(flags.dataDir ?? process.env.TOCDO_DATA_DIR ?? './data')
      const target = redactDatabaseUrl(flags.to)
      out(`migrate ${file} -> ${target}`)
      const m = await openStoreMigration(file, flags.to)
      let failed = false
      try {
        const started = Date.now()
        // A large store takes a while: what is being copied, every 10 s, on stderr.
        let shown = Date.now()
        const onProgress = (table: string, n: number): void => {
          if (Date.now() - shown < 10_000) return
          shown = Date.now()
          process.stderr.write(`  … ${table}: ${n} rows copied so far\n`)
        }
        const copy = await m.copy({ batchRows, onProgress })
        for (const t of copy.tables) out(`  ${t.table.padEnd(20)} ${String(t.read).padStart(9)} read ${String(t.inserted).padStart(9)} copied${t.updated > 0 ? ` ${t.updated} brought up to date` : ''}`)
        out(`  ${'result'.padEnd(20)} ${String(copy.results.read).padStart(9)} read ${String(copy.results.inserted).padStart(9)} copied ${copy.results.alreadyThere} already there ${copy.results.conflicts.length} conflicts`)
        out(`  rollups ${copy.rollups === 'copied' ? 'copied as stored' : copy.rollups === 'rebuilt' ? 'rebuilt from the results in PostgreSQL' : 'unchanged (no new results)'}; copy took ${((Date.now() - started) / 1000).toFixed(1)} s`)
        for (const c of copy.results.conflicts.slice(0, 20)) out(`  CONFLICT result ${c.agentId}/${c.resultId}: PostgreSQL holds a different record with this id; it was kept, not overwritten`)
        if (copy.results.conflicts.length > 0) failed = true

        const results = await m.compareResults()
        out(`verify results: ${results.agents} agents, ${results.results} results on SQLite; ${results.differences.length === 0 ? 'counts and payload hashes equal on both' : `${results.differences.length} agents DIFFER`}`)
        for (const d of results.differences.slice(0, 20)) {
          out(`  DIFFERS agent ${d.agentId}: ${d.sqlite} results on SQLite, ${d.postgres} on PostgreSQL, payload hashes ${d.hashes}; results ${d.resultIds.length > 0 ? d.resultIds.join(', ') : '(not looked up)'}`)
        }
        if (results.differences.length > 0) failed = true

        const tables = await m.compareTables()
        out(`verify tables: ${tables.rows} rows of ${tables.tables} tables on SQLite; ${tables.differences.length === 0 ? 'every row equal on both, column by column' : `${tables.differences.length} rows DIFFER`}`)
        for (const d of tables.differences.slice(0, 20)) {
          out(`  DIFFERS ${d.table} ${JSON.stringify(d.key)}: ${d.missingOn !== null ? `missing on ${d.missingOn === 'postgres' ? 'PostgreSQL' : 'SQLite'}` : `columns ${d.columns.join(', ')}`}`)
        }
        if (tables.differences.length > 0) failed = true

        const reports = await compareReports(m.sqlite, m.postgres, Date.now())
        out(`verify reports: ${reports.compared} reports (${reports.months.length} months and all time); ${reports.differences.length === 0 ? 'all equal on both' : `${reports.differences.length} DIFFER`}`)
        for (const d of reports.differences.slice(0, 20)) out(`  DIFFERS ${d.report}\n    sqlite:   ${cut(d.sqlite)}\n    postgres: ${cut(d.postgres)}`)
        if (reports.differences.length > 0) failed = true
      } finally {
        await m.close()
      }
      out(failed
        ? 'verdict FAILED: the stores differ (above); re-run after the collector has stopped writing to SQLite, or look into the rows named'
        : `verdict ok: point TOCDO_DATABASE_URL at ${target} and restart the collector`)
      if (failed) process.exitCode = 1
    })
}
