import { createHash, randomBytes } from 'node:crypto'
import type { Db } from '../storage/db.js'
import type { Agency, AgencyStore, AgentRow } from '../storage/agency-store.js'
import { TocdoError } from '../../shared/errors.js'
import { ENROLMENT_CODE_TTL_DAYS, type EnrollRequest } from '../../shared/schemas/fleet.js'

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

function hashCode (code: string): Buffer {
  return createHash('sha256').update(code, 'utf8').digest()
}

/**
 * Single-use enrolment codes bound to an agency. Only the code's hash is stored; using a
 * code and creating the agent happen in one transaction, so two machines racing with the
 * same code cannot both enrol.
 */
export class Enrolment {
  readonly #db: Db
  readonly #agencies: AgencyStore

  constructor (db: Db, agencies: AgencyStore) {
    this.#db = db
    this.#agencies = agencies
  }

  issue (agencyId: string, now = Date.now()): { code: string, expiresAt: number } {
    if (this.#agencies.agencyById(agencyId) === undefined) throw new TocdoError('TOCDO_ERR_NOT_FOUND', `no agency with id ${agencyId}`, { details: { field: 'id' } })
    const code = newEnrolmentCode()
    const expiresAt = now + ENROLMENT_CODE_TTL_DAYS * 86_400_000
    this.#db.prepare('INSERT INTO enrolment_code (code_hash, agency_id, created_at, expires_at) VALUES (?, ?, ?, ?)')
      .run(hashCode(code), agencyId, now, expiresAt)
    return { code, expiresAt }
  }

  /** Uses a code and creates the agent; TOCDO_ERR_ENROLMENT_CODE (400) if invalid, used or expired. */
  enrol (req: EnrollRequest, now = Date.now()): { agent: AgentRow, token: string, agency: Agency } {
    return this.#db.transaction(() => {
      const row = this.#db.prepare('SELECT agency_id AS agencyId, expires_at AS expiresAt, used_at AS usedAt FROM enrolment_code WHERE code_hash = ?')
        .get(hashCode(req.code)) as { agencyId: string, expiresAt: number, usedAt: number | null } | undefined
      // One message for all three cases, so the reply does not help anyone guess codes.
      if (row === undefined || row.usedAt !== null || row.expiresAt <= now) {
        throw new TocdoError('TOCDO_ERR_ENROLMENT_CODE', 'code: enrolment code is invalid, already used or expired; ask the provincial administrator for a new one', { details: { field: 'code' } })
      }
      const agency = this.#agencies.agencyById(row.agencyId) as Agency
      const created = this.#agencies.createEnrolledAgent(agency.id, req, now)
      this.#db.prepare('UPDATE enrolment_code SET used_at = ?, used_by = ? WHERE code_hash = ?').run(now, created.agent.id, hashCode(req.code))
      return { ...created, agency }
    })()
  }
}
