import { randomBytes } from 'node:crypto'
import type { Agency, AgentRow, FleetStore } from '../storage/stores.js'
import { TocdoError } from '../../shared/errors.js'
import { ENROLMENT_CODE_TTL_DAYS, type EnrollRequest } from '../../shared/schemas/fleet.js'
import { newToken, sha256 } from './tokens.js'

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** 16 base32 characters from 10 random bytes: 80 bits (fleet-protocol.md §2). */
export function newEnrolmentCode (bytes: Buffer = randomBytes(10)): string {
  let bits = 0
  let value = 0
  let out = ''
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  return out
}

/** A fresh code for an agency: the code to hand out once, the hash to store and its expiry. */
export function enrolmentCodeFor (now: number): { code: string, codeHash: Buffer, expiresAt: number } {
  const code = newEnrolmentCode()
  return { code, codeHash: sha256(code), expiresAt: now + ENROLMENT_CODE_TTL_DAYS * 86_400_000 }
}

/**
 * Single-use enrolment codes bound to an agency. Only the code's hash is stored; using a
 * code and creating the agent are one store transaction, so two machines racing with the
 * same code cannot both enrol.
 */
export class Enrolment {
  readonly #fleet: FleetStore

  constructor (fleet: FleetStore) {
    this.#fleet = fleet
  }

  async issue (agencyId: string, now = Date.now()): Promise<{ code: string, expiresAt: number }> {
    const { code, codeHash, expiresAt } = enrolmentCodeFor(now)
    if (!await this.#fleet.issueEnrolmentCode(agencyId, codeHash, expiresAt, now)) throw new TocdoError('TOCDO_ERR_NOT_FOUND', `no agency with id ${agencyId}`, { details: { field: 'id' } })
    return { code, expiresAt }
  }

  /** Uses a code and creates the agent; TOCDO_ERR_ENROLMENT_CODE (400) if invalid, used or expired. */
  async enrol (req: EnrollRequest, now = Date.now()): Promise<{ agent: AgentRow, token: string, agency: Agency }> {
    const token = newToken()
    const host = { hostname: req.hostname, os: req.os, arch: req.arch, agentVersion: req.agentVersion }
    const enrolled = await this.#fleet.enrol(sha256(req.code), host, sha256(token), now)
    // One message for all three cases, so the reply does not help anyone guess codes.
    if (enrolled === undefined) {
      throw new TocdoError('TOCDO_ERR_ENROLMENT_CODE', 'code: enrolment code is invalid, already used or expired; ask the provincial administrator for a new one', { details: { field: 'code' } })
    }
    return { ...enrolled, token }
  }
}
