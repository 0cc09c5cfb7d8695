import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Ingestor } from '../../collector/ingest/ingest.js'
import { sha256 } from '../../collector/fleet/tokens.js'
import type { Agency, AgentRow, GeographyRows, NewAgency } from '../../collector/storage/stores.js'
import { latencyRecord } from '../fixtures/records.js'
import { backends, type TestStores } from '../helpers/stores.js'

/**
 * The HealthReader contract on every backend (collector/storage/{sqlite,postgres}/health.ts):
 * each agent with its agency, places, last heartbeat and result counts, filtered by province in
 * either geography or by agency; the last syncs of active agents.
 */
const T = Date.UTC(2026, 9, 10, 3)
const H = 3_600_000

// A small geography: one commune of each version and one 2025-03 district.
const GEO: GeographyRows = {
  provinces: [['2025-03', '62', 'Kon Tum', 'Tỉnh Kon Tum', 'Kon Tum'], ['2025-07', '51', 'Quảng Ngãi', 'Tỉnh Quảng Ngãi', 'Quang Ngai']],
  districts: [['2025-03', '608', '62', 'Đắk Hà', 'Huyện Đắk Hà', 'Dak Ha']],
  communes: [['2025-07', '23293', '51', null, 'Đắk Hà', 'Xã Đắk Hà', 'Dak Ha']],
  merges: [],
  provinceMerges: [['51', '62']]
}

const AGENCY: NewAgency = { name: 'UBND xã Đắk Hà', category: 'organisation', connectionClass: 'fixed', isp: 'VNPT', planDownMbps: 100, planUpMbps: 100, communeCode: '23293', provinceCode: '51', legacyCommuneCode: null, legacyDistrictCode: '608', legacyProvinceCode: '62', placementNote: null }

describe.each(backends)('HealthReader on $name', (backend) => {
  let stores: TestStores
  let agency: Agency
  let other: Agency
  const agents: AgentRow[] = []
  const ingestor = new Ingestor()
  const send = async (agent: AgentRow, a: Agency, receivedAt: number[]): Promise<void> => {
    for (const at of receivedAt) {
      const batch = ingestor.prepare(agent, a, [latencyRecord({}, new Date(at - 60_000))], at)
      const { outcomes } = await stores.results.commitGroup([{ batch, seen: { kind: 'seen', agentId: agent.id, at } }])
      expect(outcomes[0]?.accepted).toBe(1)
    }
  }

  beforeEach(async () => {
    agents.length = 0
    stores = await backend.open()
    await stores.geo.replaceGeography(GEO)
    const { placementCandidates: _, ...a } = await stores.fleet.createAgency(AGENCY, 1)
    const { placementCandidates: __, ...o } = await stores.fleet.createAgency({ ...AGENCY, name: 'Bưu điện Hà Nội', communeCode: '00004', provinceCode: '01', legacyDistrictCode: '001', legacyProvinceCode: '01' }, 2)
    agency = a
    other = o
    agents.push(await stores.fleet.createAgent(agency.id, 'pc-1', sha256('1'), 10))
    agents.push(await stores.fleet.createAgent(agency.id, 'pc-2', sha256('2'), 20))
    agents.push(await stores.fleet.createAgent(other.id, 'pc-3', sha256('3'), 30))
  })
  afterEach(async () => { await stores.close() })

  it('counts each agent\'s results since a day and a week ago, with its last result and places', async () => {
    const [a1, a2, a3] = agents as [AgentRow, AgentRow, AgentRow]
    await send(a1, agency, [T - 10 * 24 * H, T - 3 * 24 * H, T - 2 * H, T - H])
    await send(a3, other, [T - 5 * H])
    await stores.fleet.setAgentStatus(a2.id, 'revoked', T)
    const rows = await stores.health.agentHealth({}, { day: T - 24 * H, week: T - 7 * 24 * H })
    // By agency name in byte order ('B' < 'U'), then age.
    expect(rows.map((r) => r.id)).toEqual([a3.id, a1.id, a2.id])
    expect(rows[1]).toEqual({
      id: a1.id,
      agencyId: agency.id,
      agencyName: 'UBND xã Đắk Hà',
      communeCode: '23293',
      communeName: 'Đắk Hà',
      legacyDistrictCode: '608',
      legacyDistrictName: 'Đắk Hà',
      status: 'active',
      lastSyncAt: null,
      lastSeenAt: T - H,
      agentVersion: null,
      os: null,
      lastResultAt: T - H,
      resultsDay: 2,
      resultsWeek: 3
    })
    expect(rows[2]).toMatchObject({ status: 'revoked', lastResultAt: null, resultsDay: 0, resultsWeek: 0 })
    expect(rows[0]).toMatchObject({ communeName: null, legacyDistrictName: null, resultsDay: 1, resultsWeek: 1 })
  })

  it('filters by a province of either geography and by agency', async () => {
    const since = { day: T - 24 * H, week: T - 7 * 24 * H }
    const ids = async (filter: Parameters<TestStores['health']['agentHealth']>[0]): Promise<string[]> => (await stores.health.agentHealth(filter, since)).map((r) => r.id)
    const [a1, a2, a3] = agents as [AgentRow, AgentRow, AgentRow]
    expect(await ids({ province: { version: '2025-07', code: '51' } })).toEqual([a1.id, a2.id])
    expect(await ids({ province: { version: '2025-03', code: '62' } })).toEqual([a1.id, a2.id])
    expect(await ids({ province: { version: '2025-03', code: '51' } })).toEqual([])
    expect(await ids({ agencyId: other.id })).toEqual([a3.id])
    expect(await ids({ agencyId: other.id, province: { version: '2025-07', code: '51' } })).toEqual([])
  })

  it('gives the last sync of every active agent, and answers a ping', async () => {
    const [a1, a2] = agents as [AgentRow, AgentRow, AgentRow]
    const heartbeat = { agentVersion: '1.0.0', configVersion: 1, uptimeS: 10, queue: { pending: 0, oldestAgeS: null, dead: 0, bytes: 0 }, counters: {}, clock: { offsetMs: 5, sinceSyncS: 1 } }
    await stores.results.commitGroup([{ batch: ingestor.prepare(a1, agency, [], T), seen: { kind: 'heartbeat', agentId: a1.id, at: T, heartbeat } }])
    await stores.fleet.setAgentStatus(a2.id, 'decommissioned', T)
    expect((await stores.health.activeAgentLastSyncs()).sort()).toEqual([T, null].sort())
    await expect(stores.health.ping()).resolves.toBeUndefined()
  })
})
