import type { Db } from '../db.js'
import type { HealthReader } from '../stores.js'

export class SqliteHealthReader implements HealthReader {
  constructor (protected readonly db: Db) {}
}
