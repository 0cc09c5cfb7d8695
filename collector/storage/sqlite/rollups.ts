import type { Db } from '../db.js'
import type { RollupReader } from '../stores.js'

export class SqliteRollupReader implements RollupReader {
  constructor (protected readonly db: Db) {}
}
