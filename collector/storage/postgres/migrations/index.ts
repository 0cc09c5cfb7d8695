import * as m001 from './001-initial.js'
import * as m010 from './010-fleet.js'
import * as m011 from './011-result.js'
import * as m012 from './012-result-agent-received.js'
import * as m020 from './020-report-rollups.js'
import * as m021 from './021-rollup-month-packs.js'
import * as m030 from './030-ipv6.js'
import * as m031 from './031-ipv6-evidence.js'
import * as m040 from './040-admin-audit.js'
import * as m041 from './041-result-link-limited.js'
import * as m043 from './043-result-ipv6-only.js'
import * as m044 from './044-rate-limits.js'
import * as m045 from './045-result-set-apart.js'
import * as m046 from './046-month-packs-rebuilt.js'
import * as m047 from './047-month-packs-layout-2.js'

/**
 * PostgreSQL migrations in the order they apply. They carry the numbers of the SQLite
 * migrations (collector/storage/migrations/) for the same logical step, each creating that
 * step's final form on a fresh database. Rules as on SQLite: never edit a migration that has
 * shipped; add a file with the next number; each runs in one transaction and is recorded by
 * name in schema_migrations (postgres/migrate.ts).
 */
export const migrations: ReadonlyArray<{ name: string, sql: string }> = [
  { name: '001-initial', sql: m001.sql },
  { name: '010-fleet', sql: m010.sql },
  { name: '020-report-rollups', sql: m020.sql },
  { name: '021-rollup-month-packs', sql: m021.sql },
  { name: '030-ipv6', sql: m030.sql },
  { name: '031-ipv6-evidence', sql: m031.sql },
  { name: '011-result', sql: m011.sql },
  { name: '012-result-agent-received', sql: m012.sql },
  { name: '040-admin-audit', sql: m040.sql },
  { name: '041-result-link-limited', sql: m041.sql },
  { name: '043-result-ipv6-only', sql: m043.sql },
  { name: '044-rate-limits', sql: m044.sql },
  { name: '045-result-set-apart', sql: m045.sql },
  { name: '046-month-packs-rebuilt', sql: m046.sql },
  { name: '047-month-packs-layout-2', sql: m047.sql }
]
