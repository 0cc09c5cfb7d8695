import type { Db } from '../db.js'
import type { Ipv6Store } from '../stores.js'

export class SqliteIpv6Store implements Ipv6Store {
  constructor (protected readonly db: Db) {}
}
