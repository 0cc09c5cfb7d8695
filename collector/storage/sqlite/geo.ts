import type { Db } from '../db.js'
import type { GeoStore } from '../stores.js'

export class SqliteGeoStore implements GeoStore {
  constructor (protected readonly db: Db) {}
}
