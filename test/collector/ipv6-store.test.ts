import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CheckResult } from '../../shared/ipv6-checks.js'
import type { Agency, NewAgency } from '../../collector/storage/stores.js'
import type { Ipv6OnlyResult, ResultRecord } from '../../shared/schemas/result.js'
import { Ingestor, ingestAlone } from '../../collector/ingest/ingest.js'
import { sha256 } from '../../collector/fleet/tokens.js'
import { ipv6OnlyRecord, ipv6Record } from '../fixtures/records.js'
import { backends, type TestStores } from '../helpers/stores.js'

/**
 * The Ipv6Store contract on every backend (collector/storage/{sqlite,postgres}/ipv6.ts): an
 * agency's watched services, the prober's runs, each stored whole or not at all, and the
 * rows the IPv6 report reads (the report itself: test/integration/ipv6-report.test.ts).
 */
const agency = (id: string, name: string): NewAgency => ({ id, name, category: 'organisation', connectionClass: 'fixed', isp: 'VNPT', planDownMbps: null, planUpMbps: null, communeCode: '23290', provinceCode: '51', legacyCommuneCode: null, legacyDistrictCode: null, legacyProvinceCode: '62', placementNote: null })
const check = (c: CheckResult['check'], colour: CheckResult['colour'], target = 'x.gov.vn', evidence: Record<string, unknown> = {}): CheckResult => ({ check: c, target, colour, reason: `${c} ${colour}`, evidence })

describe.each(backends)('Ipv6Store on $name', (backend) => {
  let stores: TestStores
  beforeEach(async () => {
    stores = await backend.open()
    await stores.fleet.createAgency(agency('b', 'Sở B'), 1)
    await stores.fleet.createAgency(agency('a', 'Sở A'), 2)
  })
  afterEach(async () => { await stores.close() })

  it('keeps one services row per agency: a second write replaces the first', async () => {
    const { ipv6 } = stores
    expect(await ipv6.services('a')).toBeUndefined()
    expect(await ipv6.allServices()).toEqual([])
    await ipv6.setServices({ agencyId: 'b', portalHost: 'b.gov.vn', publicServiceHost: null, mailDomain: 'b.gov.vn', dnsZone: null, updatedAt: 1_700_000_000_000 })
    await ipv6.setServices({ agencyId: 'a', portalHost: 'a.gov.vn', publicServiceHost: 'dvc.a.gov.vn', mailDomain: null, dnsZone: 'a.gov.vn', updatedAt: 1_700_000_000_001 })
    await ipv6.setServices({ agencyId: 'b', portalHost: 'new.b.gov.vn', publicServiceHost: null, mailDomain: null, dnsZone: 'b.gov.vn', updatedAt: 1_700_000_000_002 })
    expect(await ipv6.services('b')).toEqual({ agencyId: 'b', portalHost: 'new.b.gov.vn', publicServiceHost: null, mailDomain: null, dnsZone: 'b.gov.vn', updatedAt: 1_700_000_000_002 })
    expect((await ipv6.allServices()).map((s) => [s.agencyId, s.portalHost])).toEqual([['a', 'a.gov.vn'], ['b', 'new.b.gov.vn']])
    // Services of an agency that does not exist are refused.
    await expect(ipv6.setServices({ agencyId: 'nobody', portalHost: null, publicServiceHost: null, mailDomain: null, dnsZone: null, updatedAt: 1 })).rejects.toThrow()
    expect(await stores.rows('agency_service')).toHaveLength(2)
  })

  it('gives the checks of an agency\'s latest run before a time, by check and target, with their evidence', async () => {
    const { ipv6 } = stores
    await ipv6.saveRun('01RUN1', 'a', [check('web_aaaa', 'green'), check('https_v6', 'red', 'x.gov.vn', { status: 503 })], 1000)
    await ipv6.saveRun('01RUN2', 'a', [check('https_v6', 'green', 'x.gov.vn', { ipv6: [{ address: '2001:db8::1', status: 200 }] }), check('https_v6', 'yellow', 'dvc.x.gov.vn'), check('dnssec', 'gray')], 2000)
    await ipv6.saveRun('01RUN3', 'b', [check('web_aaaa', 'red')], 3000)
    const latest = await ipv6.latestRun('a')
    expect(latest.map((c) => [c.runId, c.check, c.target, c.colour])).toEqual([
      ['01RUN2', 'dnssec', 'x.gov.vn', 'gray'], ['01RUN2', 'https_v6', 'dvc.x.gov.vn', 'yellow'], ['01RUN2', 'https_v6', 'x.gov.vn', 'green']
    ])
    expect(latest[2]).toEqual({ runId: '01RUN2', agencyId: 'a', check: 'https_v6', target: 'x.gov.vn', colour: 'green', reason: 'https_v6 green', evidence: { ipv6: [{ address: '2001:db8::1', status: 200 }] }, checkedAt: 2000 })
    expect((await ipv6.latestRun('a', 2000)).map((c) => [c.runId, c.check, c.evidence])).toEqual([['01RUN1', 'https_v6', { status: 503 }], ['01RUN1', 'web_aaaa', {}]])
    expect(await ipv6.latestRun('a', 1000)).toEqual([])
    expect(await ipv6.latestRun('nobody')).toEqual([])
  })

  it('stores a run whole or not at all', async () => {
    const { ipv6 } = stores
    // The second check's colour breaks the table's rule: the first check is not kept either.
    await expect(ipv6.saveRun('01BAD', 'a', [check('web_aaaa', 'green'), check('dnssec', 'purple' as never)], 1000)).rejects.toThrow()
    // A run of an agency that does not exist is refused whole.
    await expect(ipv6.saveRun('01NOBODY', 'nobody', [check('web_aaaa', 'green')], 1000)).rejects.toThrow()
    expect(await stores.rows('ipv6_check')).toEqual([])
    expect(await ipv6.latestRun('a')).toEqual([])
  })

  it('reads the report\'s rows of each period: latest run\'s checks, evidence in the window, latest IPv6-only result', async () => {
    const H = 3_600_000
    const OCT = Date.UTC(2026, 9, 10, 3)
    const SEP = Date.UTC(2026, 8, 20, 3)
    const oct = { fromMs: Date.UTC(2026, 8, 30, 17), toMs: Date.UTC(2026, 9, 31, 17) }
    const sep = { fromMs: Date.UTC(2026, 7, 31, 17), toMs: Date.UTC(2026, 8, 30, 17) }
    await stores.fleet.createAgency({ ...agency('c', 'Sở C'), provinceCode: '01', legacyProvinceCode: '01' }, 3)
    const ingestor = new Ingestor()
    const send = async (id: string, records: ResultRecord[]): Promise<string> => {
      const a = await stores.fleet.agencyById(id) as Agency
      const agent = await stores.fleet.createAgent(id, `${id}-pc`, sha256(id), 5)
      const out = await ingestAlone(stores.results, ingestor, agent, a, records, OCT + H)
      expect(out.rejected, JSON.stringify(out.items)).toBe(0)
      return agent.id
    }
    const v6 = (state: 'works' | 'broken'): NonNullable<ResultRecord['ipv6']> => ({ state, globalAddress: true, aaaa: true, connect6: state === 'works', connect4: true, ping6MedianMs: null, ping4MedianMs: null, mainTestFamily: null, forcedV6Mbps: null, failures: [], autoSelectFamily: true, checks: [{ name: 'addr', ok: true, detail: '' }, { name: 'connect6', ok: state === 'works', detail: '' }, { name: 'preferred', ok: null, detail: '' }] })
    const only = (ready: boolean): Ipv6OnlyResult => ({ dns64: { found: ready, prefixes: ready ? [{ prefix: '64:ff9b::', length: 96 }] : [], addresses: [], detail: '' }, ipv6Connect: true, services: [], ready, basis: ready ? 'nat64' : null, reason: ready ? 'NAT64 found' : 'no NAT64' })
    // a: worked 30 h before its last result in October (outside a 24 h window), broken since.
    await send('a', [ipv6Record(OCT - 30 * H, { ipv6: v6('works') }), ipv6Record(OCT - 2 * H, { ipv6: v6('broken') }), ipv6Record(OCT, { ipv6: v6('broken') }),
      ipv6OnlyRecord(OCT - 3 * H, only(true)), ipv6OnlyRecord(OCT - H, only(false)), ipv6OnlyRecord(SEP, only(true))])
    await send('c', [ipv6Record(SEP, { ipv6: v6('works') })])
    await stores.ipv6.saveRun('01A1', 'a', [check('web_aaaa', 'red')], SEP)
    await stores.ipv6.saveRun('01A2', 'a', [check('web_aaaa', 'yellow')], OCT - H)
    await stores.ipv6.saveRun('01A3', 'a', [check('web_aaaa', 'green'), check('dnssec', 'red')], OCT)
    await stores.ipv6.saveRun('01B1', 'b', [check('mx_v6', 'gray', '')], OCT)

    const all = await stores.ipv6.reportRows({ periods: [oct, sep], windowMs: 24 * H })
    expect(all.agencies.map((a) => [a.id, a.name, a.provinceCode, a.legacyProvinceCode])).toEqual([['a', 'Sở A', '51', '62'], ['b', 'Sở B', '51', '62'], ['c', 'Sở C', '01', '01']])
    const sorted = <T>(rows: T[]): T[] => [...rows].sort((x, y) => JSON.stringify(x) < JSON.stringify(y) ? -1 : 1)
    const [o, s] = all.periods as [NonNullable<typeof all.periods[0]>, NonNullable<typeof all.periods[0]>]
    expect(sorted(o.checks)).toEqual([
      { agencyId: 'a', name: 'dnssec', target: 'x.gov.vn', colour: 'red', reason: 'dnssec red', at: OCT },
      { agencyId: 'a', name: 'web_aaaa', target: 'x.gov.vn', colour: 'green', reason: 'web_aaaa green', at: OCT },
      { agencyId: 'b', name: 'mx_v6', target: '', colour: 'gray', reason: 'mx_v6 gray', at: OCT }
    ])
    expect(s.checks).toEqual([{ agencyId: 'a', name: 'web_aaaa', target: 'x.gov.vn', colour: 'red', reason: 'web_aaaa red', at: SEP }])
    // Agency a's two results in the window before its last (OCT − 2 h and OCT), summed up.
    expect(o.networks).toEqual([{ agencyId: 'a', last: OCT, results: 2, capable: 1, connected: 0, preferred: null }])
    expect(s.networks).toEqual([{ agencyId: 'c', last: SEP, results: 1, capable: 1, connected: 1, preferred: null }])
    expect(o.ipv6Only.map((r) => [r.agencyId, r.measuredAt, (JSON.parse(r.raw) as ResultRecord).ipv6Only?.ready])).toEqual([['a', OCT - H, false]])
    expect(s.ipv6Only.map((r) => [r.agencyId, r.measuredAt])).toEqual([['a', SEP]])

    // A province's read holds every row of its agencies, as the whole read does (a store may leave out other agencies' rows).
    for (const [column, code] of [['legacy_province_code', '62'], ['province_code', '01']] as const) {
      const of = await stores.ipv6.reportRows({ province: { column, code }, periods: [oct, sep], windowMs: 24 * H })
      const listed = new Set(of.agencies.map((a) => a.id))
      const mine = <T extends { agencyId: string }>(rows: T[]): T[] => sorted(rows.filter((r) => listed.has(r.agencyId)))
      of.periods.forEach((p, i) => {
        const whole = all.periods[i] as NonNullable<typeof all.periods[0]>
        expect(mine(p.checks)).toEqual(mine(whole.checks))
        expect(mine(p.networks)).toEqual(mine(whole.networks))
        expect(mine(p.ipv6Only)).toEqual(mine(whole.ipv6Only))
      })
      expect(of.periods.flatMap((p) => [...p.checks, ...p.networks, ...p.ipv6Only]).filter((r) => listed.has(r.agencyId)).length).toBeGreaterThan(0)
    }

    const province = await stores.ipv6.reportRows({ province: { column: 'province_code', code: '01' }, periods: [], windowMs: 24 * H })
    expect(province).toEqual({ agencies: [{ id: 'c', name: 'Sở C', communeCode: '23290', provinceCode: '01', legacyDistrictCode: null, legacyProvinceCode: '01' }], periods: [] })
    expect((await stores.ipv6.reportRows({ province: { column: 'legacy_province_code', code: '62' }, periods: [], windowMs: H })).agencies.map((a) => a.id)).toEqual(['a', 'b'])
  })
})
