import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { migrations } from './migrations/index.js'

export type Db = Database.Database

/**
 * Opens the collector's SQLite database with the pragmas that make an acknowledgement
 * mean something: WAL with synchronous=FULL, so a committed result survives power loss
 * ("a transaction committed in WAL mode with NORMAL might roll back following a power loss").
 */
export function openDatabase (file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true })
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('busy_timeout = 5000')
  db.pragma('foreign_keys = ON')
  db.pragma('cache_size = -65536')
  migrate(db)
  return db
}

export function migrate (db: Db): string[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)')
  const done = new Set(db.prepare('SELECT name FROM schema_migrations').pluck().all() as string[])
  const applied: string[] = []
  for (const m of migrations) {
    if (done.has(m.name)) continue
    db.transaction(() => {
      db.exec(m.sql)
      db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(m.name, Date.now())
    })()
    applied.push(m.name)
  }
  return applied
}
