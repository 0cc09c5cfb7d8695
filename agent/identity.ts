import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Type, type Static } from '@sinclair/typebox'
import { EnrolledAgency } from '../shared/schemas/fleet.js'
import { compileValidator } from '../shared/schemas/validate.js'
import { TocdoError } from '../shared/errors.js'

/**
 * The agent's identity: its id, its bearer token and the collector that issued them, stored
 * in the data dir as identity.json with mode 0600 (the token is a secret; it is never logged).
 * A 401 from the collector never deletes this file (fleet-protocol.md §9).
 */
export const IDENTITY_FILE = 'identity.json'

export const Identity = Type.Object({
  agentId: Type.String({ minLength: 1 }),
  token: Type.String({ minLength: 16 }),
  collector: Type.String({ minLength: 1 }),
  enrolledAt: Type.String(),
  agency: Type.Union([EnrolledAgency, Type.Null()])
})
export type Identity = Static<typeof Identity>

const validator = compileValidator(Identity)

export function identityPath (dataDir: string): string { return join(dataDir, IDENTITY_FILE) }

export function loadIdentity (dataDir: string): Identity | null {
  let raw: string
  try { raw = readFileSync(identityPath(dataDir), 'utf8') } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `cannot read ${identityPath(dataDir)}: ${(err as Error).message}`)
  }
  let parsed: unknown
  try { parsed = JSON.parse(raw) } catch (err) {
    throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `${identityPath(dataDir)} is not valid JSON (${(err as Error).message}); enrol again with tocdo-agent enroll`)
  }
  if (!validator.check(parsed)) {
    const e = validator.errors(parsed, 1)[0]
    throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `${identityPath(dataDir)}: ${e?.field ?? ''} ${e?.message ?? 'invalid'}; enrol again with tocdo-agent enroll`)
  }
  return parsed
}

/** Written atomically with mode 0600 (on Windows the data dir's ACL is what protects it: docs/agent.md). */
export function saveIdentity (dataDir: string, identity: Identity): void {
  mkdirSync(dataDir, { recursive: true })
  const file = identityPath(dataDir)
  const tmp = `${file}.tmp`
  writeFileSync(tmp, JSON.stringify(identity, null, 2) + '\n', { mode: 0o600 })
  chmodSync(tmp, 0o600)
  renameSync(tmp, file)
}

/** A token shown to people: enough to tell two apart, never enough to use. */
export function maskToken (token: string): string {
  return `${token.slice(0, 4)}…(${token.length} chars)`
}
