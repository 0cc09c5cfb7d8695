import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase, type Db } from '../../collector/storage/db.js'
import { SqliteFleetStore } from '../../collector/storage/sqlite/fleet.js'
import { sha256 } from '../../collector/fleet/tokens.js'
import type { NewAgency } from '../../collector/storage/stores.js'

/**
 * The FleetStore on SQLite (collector/storage/sqlite/fleet.ts): each method one transaction,
 * an enrolment code used once, an agency and its first code together or not at all.
 */
describe('SqliteFleetStore', () => {
  let dir: string
  let db: Db
  let fleet: SqliteFleetStore
  const agency: NewAgency = { name: 'UBND xã thử', category: 'organisation', connectionClass: 'fixed', isp: 'VNPT', planDownMbps: 100, planUpMbps: 100, communeCode: '23293', provinceCode: '51', legacyCommuneCode: '23281', legacyDistrictCode: '608', legacyProvinceCode: '62', placementNote: 'test', placementCandidates: ['608', '610'] }
  const host = { hostname: 'pc-1', os: 'linux 6.1', arch: 'x64', agentVersion: '1.2.3' }
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tocdo-fleet-store-'))
    db = openDatabase(join(dir, 'collector.sqlite'))
    fleet = new SqliteFleetStore(db)
  })
  afterEach(() => {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('finds an agent and its agency by token hash in one read, and nothing by another hash', async () => {
    const a = await fleet.createAgency(agency, 1000)
    const agent = await fleet.createAgent(a.id, 'pc', sha256('token-1'), 2000)
    const found = await fleet.agentByTokenHash(sha256('token-1'))
    expect(found?.agent).toEqual(agent)
    const { placementCandidates, ...plain } = a
    expect(found?.agency).toEqual(plain)
    expect(placementCandidates).toEqual(['608', '610'])
    expect(await fleet.agentByTokenHash(sha256('token-2'))).toBeUndefined()
  })

  it('uses an enrolment code once: of two enrolments with it, one creates an agent', async () => {
    const a = await fleet.createAgency(agency, 1000, { codeHash: sha256('CODE'), expiresAt: 10_000 })
    const both = await Promise.all([
      fleet.enrol(sha256('CODE'), host, sha256('t-a'), 5000),
      fleet.enrol(sha256('CODE'), { ...host, hostname: 'pc-2' }, sha256('t-b'), 5000)
    ])
    expect(both.filter((e) => e !== undefined)).toHaveLength(1)
    expect(both[0]?.agency.id).toBe(a.id)
    expect((await fleet.listAgents()).map((x) => [x.hostname, x.os, x.agentVersion])).toEqual([['pc-1', 'linux 6.1', '1.2.3']])
  })

  it('refuses an expired or unknown code, and a code for an agency that does not exist', async () => {
    const a = await fleet.createAgency(agency, 1000)
    expect(await fleet.issueEnrolmentCode(a.id, sha256('OLD'), 5000, 1000)).toBe(true)
    expect(await fleet.enrol(sha256('OLD'), host, sha256('t'), 5000)).toBeUndefined()
    expect(await fleet.enrol(sha256('NONE'), host, sha256('t'), 1000)).toBeUndefined()
    expect(await fleet.issueEnrolmentCode('no-such-agency', sha256('X'), 5000, 1000)).toBe(false)
    expect(await fleet.listAgents()).toEqual([])
  })

  it('stores an agency and its first code together or not at all', async () => {
    const first = await fleet.createAgency(agency, 1000, { codeHash: sha256('SAME'), expiresAt: 10_000 })
    // The same code hash again: the code's insert fails, so the second agency is not kept either.
    await expect(fleet.createAgency({ ...agency, name: 'other' }, 1000, { codeHash: sha256('SAME'), expiresAt: 10_000 })).rejects.toThrow()
    expect((await fleet.listAgencies()).map((x) => x.id)).toEqual([first.id])
  })

  it('keeps remote configuration versions increasing, and the admin token hash once', async () => {
    const v1 = { version: 1, schedule: [], servers: ['http://x'], monthlyBudgetMB: 1, maxSecondsPerDirection: 1 } as never
    expect(await fleet.ensureRemoteConfig(v1, 1)).toEqual(v1)
    expect(await fleet.ensureRemoteConfig({ ...(v1 as object), version: 9 } as never, 2)).toEqual(v1)
    expect(await fleet.addRemoteConfig({ ...(v1 as object), version: 1 } as never, 3)).toBe(false)
    expect(await fleet.addRemoteConfig({ ...(v1 as object), version: 2 } as never, 3)).toBe(true)
    expect(await fleet.adminTokenHash()).toBeNull()
    expect(await fleet.storeAdminTokenHash(sha256('a'), 1)).toBe(true)
    expect(await fleet.storeAdminTokenHash(sha256('b'), 2)).toBe(false)
    expect(await fleet.adminTokenHash()).toEqual(sha256('a'))
  })

  it('reads never write', async () => {
    const a = await fleet.createAgency(agency, 1000)
    await fleet.createAgent(a.id, 'pc', sha256('t'), 2000)
    await fleet.recordAudit({ at: 1, actor: 'admin:x', via: 'api', action: 'a', target: null, summary: {}, clientIp: '::1', status: 200 })
    const before = db.prepare('SELECT total_changes()').pluck().get()
    await fleet.agentByTokenHash(sha256('t'))
    await fleet.agencyById(a.id)
    await fleet.agencyByName(a.name)
    await fleet.listAgencies()
    await fleet.listAgents()
    await fleet.adminTokenHash()
    await fleet.listAudit({ limit: 10 })
    expect(db.prepare('SELECT total_changes()').pluck().get()).toBe(before)
  })
})
