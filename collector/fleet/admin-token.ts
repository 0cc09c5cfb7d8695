import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Db } from '../storage/db.js'

function sha256 (text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

/**
 * Names an admin credential in the audit log without revealing it: the first 16 hex digits
 * (64 bits) of its sha256, the same digest the store keeps (`printf %s "$TOKEN" | sha256sum`).
 */
export function adminTokenFingerprint (token: string): string {
  return sha256(token).toString('hex').slice(0, 16)
}

/**
 * The admin bearer token. Either given by configuration (TOCDO_ADMIN_TOKEN), or generated
 * at first start: the caller prints it once and only its sha256 is stored.
 */
export class AdminToken {
  readonly #db: Db
  #hash: Buffer | null

  constructor (db: Db, configured: string) {
    this.#db = db
    this.#hash = configured !== ''
      ? sha256(configured)
      : (db.prepare('SELECT token_hash FROM admin_token WHERE id = 1').pluck().get() as Buffer | undefined) ?? null
  }

  /** Generates and stores a token when there is none; returns it (to print once) or null. */
  ensure (now = Date.now()): string | null {
    if (this.#hash !== null) return null
    const token = randomBytes(32).toString('base64url')
    this.#hash = sha256(token)
    this.#db.prepare('INSERT INTO admin_token (id, token_hash, created_at) VALUES (1, ?, ?)').run(this.#hash, now)
    return token
  }

  verify (token: string): boolean {
    return this.#hash !== null && timingSafeEqual(sha256(token), this.#hash)
  }
}
