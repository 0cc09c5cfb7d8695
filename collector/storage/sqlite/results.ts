import type { Db } from '../db.js'
import type { ResultStore } from '../stores.js'

export class SqliteResultStore implements ResultStore {
  constructor (protected readonly db: Db) {}
}
