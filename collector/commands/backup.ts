import type { Command } from 'commander'
import { resolve } from 'node:path'
import { databaseFile } from '../plugins/db.js'
import { backupDatabase, verifyDatabase } from '../storage/index.js'
import { TocdoError } from '../../shared/errors.js'

const out = (text: string): void => { process.stdout.write(text.endsWith('\n') ? text : text + '\n') }

/** `tocdo-collector backup FILE` and `tocdo-collector verify FILE` (docs/operations.md). */
export function registerBackup (program: Command): void {
  program.command('backup <file>')
    .description('copy the collector database to FILE with SQLite\'s online backup (safe while the collector runs), then verify the copy')
    .option('--data-dir <dir>', 'the collector\'s data directory (env TOCDO_DATA_DIR, default ./data)')
    .action(async (file: string, flags: { dataDir?: string }) => {
      if ((process.env.TOCDO_DATABASE_URL ?? '') !== '') {
        throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', 'backup copies the embedded SQLite store, and TOCDO_DATABASE_URL says this collector uses PostgreSQL: back that up with pg_dump or pg_basebackup (docs/operations.md)')
      }
      const source = databaseFile(flags.dataDir ?? process.env.TOCDO_DATA_DIR ?? './data')
      const started = Date.now()
      const { bytes } = await backupDatabase(source, resolve(file))
      const report = verifyDatabase(resolve(file))
      out(`backup ${resolve(file)}: ${(bytes / 1e6).toFixed(1)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s; ${report.counts.results} results, ${report.counts.agents} agents; integrity ${report.ok ? 'ok' : 'FAILED'}`)
      if (!report.ok) process.exitCode = 1
    })
  program.command('verify <file>')
    .description('check a database file (a backup or the live one): integrity, migrations, what it holds; exit 1 when it fails')
    .option('--json', 'print JSON')
    .action((file: string, flags: { json?: boolean }) => {
      const report = verifyDatabase(resolve(file))
      if (flags.json === true) {
        out(JSON.stringify(report, null, 2))
      } else {
        out([
          `file        ${resolve(file)}`,
          `integrity   ${report.integrity.join('; ')}`,
          `migrations  ${report.migrations.applied} applied${report.migrations.missing.length > 0 ? `; ${report.migrations.missing.length} to apply at next start` : ''}${report.migrations.unknown.length > 0 ? `; UNKNOWN to this collector: ${report.migrations.unknown.join(', ')}` : ''}`,
          `holds       ${report.counts.results} results, ${report.counts.agents} agents, ${report.counts.agencies} agencies; newest result received ${report.newestResultAt ?? '-'}`,
          `verdict     ${report.ok ? 'ok' : 'FAILED'}`
        ].join('\n'))
      }
      if (!report.ok) process.exitCode = 1
    })
}
