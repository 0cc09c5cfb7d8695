import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sha256 } from '../../collector/fleet/tokens.js'
import type { FleetStore, NewAgency } from '../../collector/storage/stores.js'
import { backends, type TestStores } from '../helpers/stores.js'

/**
 * The FleetStore contract, on every backend (collector/storage/{sqlite,postgres}/fleet.ts):
 * each method one transaction, an enrolment code used once, an agency and its first code
 * together or not at all.
 */
describe.each(backends)('FleetStore on $name', (backend) => {
  let stores: TestStores
  let fleet: FleetStore
  const agency: NewAgency = { name: 'UBND xã thử', category: 'organisation', connectionClass: 'fixed', isp: 'VNPT', planDownMbps: 100, planUpMbps: 100, communeCode: '23293', provinceCode: '51', legacyCommuneCode: '23281', legacyDistrictCode: '608', legacyProvinceCode: '62', placementNote: 'test', placementCandidates: ['608', '610'] }
  const host = { hostname: 'pc-1', os: 'linux 6.1', arch: 'x64', agentVersion: '1.2.3' }
  beforeEach(async () => {
    stores = await backend.open()
    fleet = stores.fleet
  })
  afterEach(async () => {
    await stores.close()
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

  it('appends admin audit entries with growing ids and pages back through them newest first', async () => {
    const ids: number[] = []
    for (let i = 0; i < 5; i++) {
      ids.push(await fleet.recordAudit({ at: 1_733_500_000_000 + i, actor: 'admin:0123456789abcdef', via: i % 2 === 0 ? 'api' : 'cli', action: `a${i}`, target: i === 0 ? null : `agent/${i}`, summary: { n: i, names: ['Sở Thông tin'] }, clientIp: '::1', status: 200 + i }))
    }
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    expect(new Set(ids).size).toBe(5)
    const first = await fleet.listAudit({ limit: 2 })
    expect(first.map((e) => e.action)).toEqual(['a4', 'a3'])
    expect(first[0]).toEqual({ id: ids[4], at: 1_733_500_000_004, actor: 'admin:0123456789abcdef', via: 'api', action: 'a4', target: 'agent/4', summary: { n: 4, names: ['Sở Thông tin'] }, clientIp: '::1', status: 204 })
    const next = await fleet.listAudit({ limit: 10, before: first[1]?.id })
    expect(next.map((e) => [e.action, e.via, e.target])).toEqual([['a2', 'api', 'agent/2'], ['a1', 'cli', 'agent/1'], ['a0', 'api', null]])
    expect(await fleet.listAudit({ limit: 10, before: ids[0] })).toEqual([])
  })

  it('sets an agency\'s high-tech zone and an agent\'s status, answering undefined for what does not exist', async () => {
    const a = await fleet.createAgency(agency, 1000)
    const agent = await fleet.createAgent(a.id, 'pc', sha256('t'), 2000)
    expect(await fleet.setHighTechZone(a.id, 'Khu công nghệ cao Hòa Lạc')).toMatchObject({ id: a.id, highTechZone: 'Khu công nghệ cao Hòa Lạc', placementCandidates: ['608', '610'] })
    expect((await fleet.agencyByName(a.name))?.highTechZone).toBe('Khu công nghệ cao Hòa Lạc')
    expect((await fleet.setHighTechZone(a.id, null))?.highTechZone).toBeNull()
    expect(await fleet.setHighTechZone('nope', 'x')).toBeUndefined()
    const revoked = await fleet.setAgentStatus(agent.id, 'revoked', 3000)
    expect(revoked).toMatchObject({ id: agent.id, status: 'revoked', agencyName: a.name, createdAt: 2000, lastSyncAt: null, queuePending: null })
    expect(await fleet.agentById(agent.id)).toEqual({ ...agent, status: 'revoked' })
    expect(await fleet.setAgentStatus('nope', 'revoked', 3000)).toBeUndefined()
    expect(await fleet.listAgents()).toEqual([revoked])
  })

  it('lists agencies oldest first and agents by agency name, byte order, then age', async () => {
    const z = await fleet.createAgency({ ...agency, name: 'Ủy ban' }, 1000)
    const b = await fleet.createAgency({ ...agency, name: 'UBND B' }, 2000)
    const a = await fleet.createAgency({ ...agency, name: 'UBND A' }, 3000)
    expect((await fleet.listAgencies()).map((x) => x.name)).toEqual(['Ủy ban', 'UBND B', 'UBND A'])
    await fleet.createAgent(z.id, 'z1', sha256('z1'), 10)
    await fleet.createAgent(b.id, 'b2', sha256('b2'), 30)
    await fleet.createAgent(b.id, 'b1', sha256('b1'), 20)
    await fleet.createAgent(a.id, 'a1', sha256('a1'), 40)
    // 'Ủ' (U+1EE6) sorts after ASCII in byte order, whatever the database's locale.
    expect((await fleet.listAgents()).map((x) => x.name)).toEqual(['a1', 'b1', 'b2', 'z1'])
  })

  it('reads never write', async () => {
    const a = await fleet.createAgency(agency, 1000)
    await fleet.createAgent(a.id, 'pc', sha256('t'), 2000)
    await fleet.recordAudit({ at: 1, actor: 'admin:x', via: 'api', action: 'a', target: null, summary: {}, clientIp: '::1', status: 200 })
    const tables = ['agency', 'agent', 'enrolment_code', 'admin_token', 'remote_config', 'admin_audit']
    const before = await Promise.all(tables.map(stores.rows))
    await fleet.agentByTokenHash(sha256('t'))
    await fleet.agencyById(a.id)
    await fleet.agencyByName(a.name)
    await fleet.listAgencies()
    await fleet.listAgents()
    await fleet.adminTokenHash()
    await fleet.listAudit({ limit: 10 })
    expect(await Promise.all(tables.map(stores.rows))).toEqual(before)
  })
})
