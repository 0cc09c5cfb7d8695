import { timingSafeEqual } from 'node:crypto'
import type { FleetStore } from '../storage/stores.js'
import { newToken, sha256 } from './tokens.js'

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
  readonly #store: FleetStore
  #hash: Buffer | null

  private constructor (store: FleetStore, hash: Buffer | null) {
    this.#store = store
    this.#hash = hash
  }

  /** The configured token, or else the stored one's hash (none before the first `ensure`). */
  static async open (store: FleetStore, configured: string): Promise<AdminToken> {
    return new AdminToken(store, configured !== '' ? sha256(configured) : await store.adminTokenHash())
  }

  /** Generates and stores a token when there is none; returns it (to print once) or null. */
  async ensure (now = Date.now()): Promise<string | null> {
    if (this.#hash !== null) return null
    const token = newToken()
    const hash = sha256(token)
    if (!await this.#store.storeAdminTokenHash(hash, now)) {
      // Another process sharing the store generated one first: that one stands.
      this.#hash = await this.#store.adminTokenHash()
      return null
    }
    this.#hash = hash
    return token
  }

  verify (token: string): boolean {
    return this.#hash !== null && timingSafeEqual(sha256(token), this.#hash)
  }
}
