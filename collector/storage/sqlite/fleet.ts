import type { Db } from '../db.js'
import type { FleetStore } from '../stores.js'

export class SqliteFleetStore implements FleetStore {
  constructor (protected readonly db: Db) {}
}
