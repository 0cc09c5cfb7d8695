import * as m001 from './001-initial.js'
import * as m010 from './010-fleet.js'
import * as m030 from './030-ipv6.js'
import * as m040 from './040-admin-audit.js'

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
  { name: '030-ipv6', sql: m030.sql },
  { name: '040-admin-audit', sql: m040.sql }
]
