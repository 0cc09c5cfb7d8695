import { createHash, randomBytes } from 'node:crypto'

/** sha256 of a bearer token or a code: the only form in which either is stored. */
export function sha256 (text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

/** sha256 of a bearer token: the only form in which a token is stored. */
export const hashToken = sha256

/** 32 random bytes, base64url: a bearer token (fleet-protocol.md §2). */
export function newToken (): string {
  return randomBytes(32).toString('base64url')
}
