import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { monotonicFactory } from 'ulidx'
import { loadGeography, loadTargets } from '../../collector/geo/load-geography.js'
import { placeAgent } from '../../collector/geo/placement.js'
import { hashToken, newToken } from '../../collector/fleet/tokens.js'
import { Ingestor, ingestAlone } from '../../collector/ingest/ingest.js'
import type { Agency } from '../../collector/storage/stores.js'
import { seedsDir } from '../../collector/paths.js'
import type { Ipv6Result, ResultRecord } from '../../shared/schemas/result.js'
import { ipv6Record as result } from '../fixtures/records.js'
import type { CheckName, CheckResult, Colour } from '../../collector/ipv6/checks.js'
import { ipv6Report, type AreaRow, type Ipv6Report } from '../../collector/ipv6/report.js'
import { ipv6Table } from '../../collector/ipv6/table.js'
import { toCsv } from '../../collector/exports/csv.js'
import { backends, type TestStores } from '../helpers/stores.js'

const ulid = monotonicFactory()
const H = 3_600_000

function v6 (state: Ipv6Result['state'], { preferred = null }: { preferred?: boolean | null } = {}): Ipv6Result {
  const globalAddress = state !== 'none'
  const connect6 = state === 'works' ? true : state === 'broken' ? false : null
  return {
    state,
    globalAddress,
    aaaa: globalAddress,
    connect6,
    connect4: true,
    ping6MedianMs: null,
    ping4MedianMs: null,
    mainTestFamily: null,
    forcedV6Mbps: null,
    failures: [],
    autoSelectFamily: true,
    checks: [
      { name: 'addr', ok: globalAddress, detail: '' },
      { name: 'connect6', ok: connect6, detail: '' },
      { name: 'preferred', ok: preferred, detail: '' }
    ]
  }
}

const run = (colours: Partial<Record<CheckName, Colour>>): CheckResult[] =>
  Object.entries(colours).map(([check, colour]) => ({ check: check as CheckName, target: 'x.gov.vn', colour, reason: `${check} ${colour}`, evidence: {} }))

const ALL_GREEN = { web_aaaa: 'green', https_v6: 'green', ns_v6: 'green', mx_v6: 'green', dnssec: 'green' } as const

const OCT = Date.UTC(2026, 9, 10, 3)
const SEP = Date.UTC(2026, 8, 20, 3)

/** The same report on every backend (test/helpers/stores.ts): the stores' reads answer alike. */
describe.each(backends)('IPv6 report on $name', (backend) => {
  let stores: TestStores
  const ag: Record<string, Agency> = {}

  beforeAll(async () => {
    stores = await backend.open()
    const { geo, ipv6: services } = stores
    await loadGeography(geo, seedsDir())
    await loadTargets(geo, seedsDir())
    const ingestor = new Ingestor()
    // As the collector does: evidence is written inside each ingest transaction.
    await stores.results.ensureIpv6Evidence()
    /** The first old commune of an old district. */
    const commune = async (legacyProvince: string, district: string): Promise<string> => (await geo.communes('2025-03', legacyProvince, district))[0]?.code ?? ''
    const make = async (name: string, legacyCommune: string): Promise<Agency> => {
      let p = await placeAgent(geo, { communeCode: legacyCommune, scheme: '2025-03' })
      if (p.ambiguous?.level === 'commune') p = await placeAgent(geo, { communeCode: legacyCommune, scheme: '2025-03', newCommuneCode: p.ambiguous.candidates[0] ?? null })
      if (p.communeCode === null || p.provinceCode === null) throw new Error(p.note)
      const { placementCandidates: _, ...agency } = await stores.fleet.createAgency({ name, category: 'organisation', connectionClass: 'fixed', isp: 'VNPT', planDownMbps: null, planUpMbps: null, communeCode: p.communeCode, provinceCode: p.provinceCode, legacyCommuneCode: p.legacyCommuneCode, legacyDistrictCode: p.legacyDistrictCode, legacyProvinceCode: p.legacyProvinceCode, placementNote: p.note }, Date.now())
      return agency
    }
    const send = async (agency: Agency, records: ResultRecord[]): Promise<void> => {
      const agent = await stores.fleet.createAgent(agency.id, `${agency.name}-pc`, hashToken(newToken()), Date.now())
      const out = await ingestAlone(stores.results, ingestor, agent, agency, records, records.at(-1) === undefined ? Date.now() : Date.parse(records.at(-1)?.measuredAt ?? '') + 1000)
      expect(out.rejected, JSON.stringify(out.items)).toBe(0)
    }
    const k608 = await commune('62', '608')
    const k610 = await commune('62', '610')
    ag.a1 = await make('A1 Sở KH&CN Kon Tum', k608) // ready_plus
    ag.a2 = await make('A2 UBND phường', k608) // ready (no DNSSEC)
    ag.a3 = await make('A3 Trung tâm', k608) // partial
    ag.a4 = await make('A4 UBND xã Đắk Glei', k610) // none
    ag.a5 = await make('A5 Trạm', k610) // unknown: no data at all
    ag.b1 = await make('B1 Bắc Ninh', await commune('27', '256')) // ready, another former province

    await send(ag.a1, [result(SEP, { ipv6: v6('works') }), result(OCT, { ipv6: v6('works', { preferred: true }) })])
    // A2's IPv6 evidence is a speed test the OS routed over IPv6: works and preferred.
    await send(ag.a2, [result(OCT, { serverFamily: 6 })])
    // A3 worked two days before its last result, then broke: outside the 24 h window it no longer counts.
    await send(ag.a3, [result(OCT - 48 * H, { ipv6: v6('works') }), result(OCT - 2 * H, { ipv6: v6('broken') }), result(OCT, { ipv6: v6('broken') })])
    await send(ag.a4, [result(OCT, { ipv6: v6('none') })])
    await send(ag.b1, [result(OCT, { ipv6: v6('works') })])

    await services.saveRun(ulid(SEP), ag.a1.id, run(ALL_GREEN), SEP)
    await services.saveRun(ulid(OCT - H), ag.a1.id, run({ ...ALL_GREEN, https_v6: 'red' }), OCT - H) // superseded by the later run
    await services.saveRun(ulid(OCT), ag.a1.id, run(ALL_GREEN), OCT)
    await services.saveRun(ulid(OCT), ag.a2.id, [...run({ web_aaaa: 'green', https_v6: 'green', ns_v6: 'green', mx_v6: 'gray', dnssec: 'red' }),
      { check: 'https_v6', target: 'dichvucong.x.gov.vn', colour: 'green', reason: '', evidence: {} }], OCT)
    await services.saveRun(ulid(OCT), ag.a3.id, [...run({ web_aaaa: 'green', https_v6: 'green', ns_v6: 'red', mx_v6: 'red', dnssec: 'red' }),
      // the public-service portal is worse than the portal: the agency's colour is the worst
      { check: 'https_v6', target: 'dichvucong.x.gov.vn', colour: 'yellow', reason: 'status 503 over IPv6 but 200 over IPv4', evidence: {} }], OCT)
    await services.saveRun(ulid(OCT), ag.a4.id, run({ web_aaaa: 'red', https_v6: 'red', ns_v6: 'red', mx_v6: 'red', dnssec: 'red' }), OCT)
    await services.saveRun(ulid(OCT), ag.b1.id, run({ ...ALL_GREEN, dnssec: 'yellow' }), OCT)
  })

  afterAll(async () => {
    await stores.close()
  })

  const area = (rows: AreaRow[], code: string): AreaRow => {
    const row = rows.find((r) => r.code === code)
    if (row === undefined) throw new Error(`no area ${code} in ${rows.map((r) => r.code).join(',')}`)
    return row
  }

  describe('ipv6Report per agency', () => {
    it('gives each agency its network state, service colours and level', async () => {
      const r = await ipv6Report(stores, { level: 'agency', period: '2026-10' })
      const by = new Map(r.agencies.map((a) => [a.agencyName, a]))
      expect(by.get(ag.a1?.name ?? '')?.network).toMatchObject({ capable: true, works: 'works', preferred: true, results: 1 })
      expect(by.get(ag.a1?.name ?? '')?.level).toBe('ready_plus')
      expect(by.get(ag.a1?.name ?? '')?.services.https_v6?.colour).toBe('green')
      expect(by.get(ag.a2?.name ?? '')?.network).toMatchObject({ capable: null, works: 'works', preferred: true })
      expect(by.get(ag.a2?.name ?? '')?.level).toBe('ready')
      expect(by.get(ag.a3?.name ?? '')?.network).toMatchObject({ capable: true, works: 'doesnt_work', results: 2 })
      expect(by.get(ag.a3?.name ?? '')?.services.https_v6).toMatchObject({ colour: 'yellow', target: 'dichvucong.x.gov.vn' })
      expect(by.get(ag.a3?.name ?? '')?.level).toBe('partial')
      expect(by.get(ag.a4?.name ?? '')?.network).toMatchObject({ capable: false, works: 'doesnt_work' })
      expect(by.get(ag.a4?.name ?? '')?.level).toBe('none')
      expect(by.get(ag.a5?.name ?? '')?.network.works).toBe('unknown')
      expect(by.get(ag.a5?.name ?? '')?.level).toBe('unknown')
      expect(by.get(ag.b1?.name ?? '')?.level).toBe('ready')
    })
  })

  describe('ipv6Report per legacy district of Kon Tum (62)', () => {
    const r = async (): Promise<Ipv6Report> => await ipv6Report(stores, { level: 'legacy_district', province: '62', period: '2026-10' })

    it('shares of agencies per level, counted by hand', async () => {
      const d608 = area((await r()).areas, '608')
      expect(d608.agencies).toBe(3)
      expect(d608.levels.ready_plus).toEqual({ count: 1, share: 1 / 3 })
      expect(d608.levels.ready).toEqual({ count: 1, share: 1 / 3 })
      expect(d608.levels.partial).toEqual({ count: 1, share: 1 / 3 })
      expect(d608.readyShare).toBeCloseTo(2 / 3, 12)
      const d610 = area((await r()).areas, '610')
      expect(d610.levels.none).toEqual({ count: 1, share: 0.5 })
      expect(d610.levels.unknown).toEqual({ count: 1, share: 0.5 })
      expect(d610.readyShare).toBe(0)
      expect((await r()).areas.map((a) => a.code)).toEqual(['608', '610']) // Bắc Ninh's agency is not in Kon Tum
    })

    it('counts failing checks and agencies whose network does not work', async () => {
      const d608 = area((await r()).areas, '608')
      expect(d608.failing.https_v6).toEqual({ red: 0, yellow: 1 })
      expect(d608.failing.ns_v6).toEqual({ red: 1, yellow: 0 })
      expect(d608.failing.dnssec).toEqual({ red: 2, yellow: 0 })
      expect(d608.failing.mx_v6).toEqual({ red: 1, yellow: 0 })
      expect(d608.failing.network_doesnt_work).toBe(1)
      expect(area((await r()).areas, '610').failing.network_doesnt_work).toBe(1)
    })

    it('trend against September: only A1 was ready then', async () => {
      const d608 = area((await r()).areas, '608')
      expect(d608.trend.previousPeriod).toBe('2026-09')
      expect(d608.trend.previousReadyShare).toBeCloseTo(1 / 3, 12)
      expect(d608.trend.change).toBeCloseTo(1 / 3, 12)
      expect(area((await r()).areas, '610').trend.previousReadyShare).toBeNull()
    })

    it('puts the plan targets beside the shares, with their source documents', async () => {
      const t = new Map(area((await r()).areas, '608').targets.map((x) => [x.id, x]))
      expect(t.get('kt2391-2025-ipv6-agencies')).toMatchObject({ document: 'Kế hoạch 2391/KH-UBND', year: 2025, requiredShare: 1, agencies: 3, met: false })
      expect(t.get('kt2391-2025-ipv6-agencies')?.measuredShare).toBeCloseTo(2 / 3, 12)
      expect(t.get('qd38-2025-ipv6-plan-and-portals')).toMatchObject({ document: 'QĐ 38/QĐ-BTTTT', requiredShare: 1, met: false })
      // portal over IPv6: A1 and A2 green, A3 yellow (its public-service portal)
      expect(t.get('qd38-2025-ipv6-plan-and-portals')?.measuredShare).toBeCloseTo(2 / 3, 12)
      expect(t.get('qd38-2022-ipv6-plan-and-portals')).toMatchObject({ requiredShare: 0.5, met: true })
      expect(t.get('tt32-2017-ipv6-dnssec')?.measuredShare).toBeCloseTo(1 / 3, 12)
      expect(t.get('bkhcn-2030-ipv6-only-agencies')).toMatchObject({ measuredShare: null, met: null })
    })
  })

  describe('ipv6Report per province and commune', () => {
    it('rolls former Kon Tum into Quảng Ngãi (51), holding Kon Tum\'s plan against its own agencies only', async () => {
      const r = await ipv6Report(stores, { level: 'province', period: '2026-10' })
      const qn = area(r.areas, '51')
      expect(qn.agencies).toBe(5)
      expect(qn.readyShare).toBeCloseTo(2 / 5, 12)
      expect(qn.targets.find((t) => t.id === 'kt2391-2025-ipv6-agencies')?.agencies).toBe(5)
      const bn = area(r.areas, '24')
      expect(bn.agencies).toBe(1)
      expect(bn.readyShare).toBe(1)
      expect(bn.targets.some((t) => t.id.startsWith('kt2391'))).toBe(false)
      expect(bn.failing.dnssec).toEqual({ red: 0, yellow: 1 })
    })

    it('legacy provinces and new communes', async () => {
      const lp = await ipv6Report(stores, { level: 'legacy_province', period: '2026-10' })
      expect(area(lp.areas, '62').readyShare).toBeCloseTo(2 / 5, 12)
      expect(area(lp.areas, '27').agencies).toBe(1)
      const c = await ipv6Report(stores, { level: 'commune', province: '51', period: '2026-10' })
      expect(c.areas.reduce((n, a) => n + a.agencies, 0)).toBe(5)
      expect(c.areas.every((a) => a.version === '2025-07' && a.name !== a.code)).toBe(true)
    })

    it('a week with no data: everything unknown', async () => {
      const r = await ipv6Report(stores, { level: 'legacy_province', province: '62', period: '2026-W30' })
      // Monday 20 July 00:00 in Vietnam time, like every report's periods (it was 00:00 UTC before)
      expect(r.period).toMatchObject({ kind: 'week', from: '2026-07-19T17:00:00.000Z', to: '2026-07-26T17:00:00.000Z', previous: '2026-W29' })
      expect(area(r.areas, '62').levels.unknown.count).toBe(5)
    })

    it('rejects a bad period and an unknown province, naming the field', async () => {
      await expect(ipv6Report(stores, { level: 'province', period: '2026-13' })).rejects.toThrow(/period=2026-13/)
      await expect(ipv6Report(stores, { level: 'legacy_district', province: '99' })).rejects.toThrow(expect.objectContaining({ code: 'TOCDO_ERR_UNKNOWN_AREA' }))
    })
  })

  describe('IPv6 evidence table', () => {
    it('the ingest commit and a rebuild from the result table give the same rows', async () => {
      const live = await stores.rows('ipv6_evidence')
      expect(live).toHaveLength(8) // every result above says something about IPv6
      await stores.exec('DELETE FROM ipv6_evidence_state')
      expect(await stores.results.ensureIpv6Evidence()).toEqual({ results: 8, evidence: 8 })
      expect(await stores.rows('ipv6_evidence')).toEqual(live)
    })
  })

  describe('CSV (collector/exports, Vietnamese headings)', () => {
    it('UTF-8 with a BOM, one line per area, names and targets intact', async () => {
      const csv = toCsv(ipv6Table(await ipv6Report(stores, { level: 'legacy_district', province: '62', period: '2026-10' }))).toString('utf8')
      expect(csv.startsWith('\uFEFFKỳ,Cấp,Mã,Tên,Số cơ quan,')).toBe(true)
      expect(csv).toContain('Kế hoạch 2391/KH-UBND (2025) – đạt (%) / yêu cầu 100 %')
      const lines = csv.trimEnd().split('\r\n')
      expect(lines).toHaveLength(3)
      // 608: 3 agencies; ready_plus 1 (33.3 %), ready 1, partial 1, none 0, unknown 0; ready share 66.7 %, September 33.3 %
      expect(lines[1]).toMatch(/^2026-10,Huyện cũ \(vùng phân tích\),608,[^,]+,3,1,33\.3,1,33\.3,1,33\.3,0,0,0,0,66\.7,33\.3,33\.3,1,/)
      const agencies = toCsv(ipv6Table(await ipv6Report(stores, { level: 'agency', province: '51', period: '2026-10' }))).toString('utf8')
      expect(agencies).toContain('A4 UBND xã Đắk Glei')
      expect(agencies).toContain('Chưa kiểm tra') // A5 was never probed
    })
  })
})
