import { Resolver } from 'node:dns/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ipv6OnlyReadiness } from '../../agent/measure/ipv6-only.js'
import { systemClock } from '../../agent/measure/context.js'
import type { Agency, GeoStore, Ipv6Store } from '../../collector/storage/stores.js'
import { ipv6Report } from '../../collector/ipv6/report.js'
import { ipv6Table } from '../../collector/ipv6/table.js'
import type { Ipv6OnlyResult, ResultRecord } from '../../shared/schemas/result.js'
import { ipv6OnlyRecord } from '../fixtures/records.js'
import { startWorld, type World } from '../helpers/ipv6-only-world.js'
import { seededStores, type StoresFixture } from '../collector/report-fixtures.js'
import { backends } from '../helpers/stores.js'
import { ingestAlone } from '../../collector/ingest/ingest.js'

/**
 * IPv6-only readiness from the probe to the IPv6 report: the blocks are measured by the real
 * probe against our DNS64 and services on ::1, ingested like any result, and the report shows
 * them per agency and per area against the 2030 goal of IPv6-only state agencies. On both stores.
 */
let nat64: World
let plain: World
const OCT = Date.UTC(2026, 9, 10, 3)
let probed: { readyNat64: Ipv6OnlyResult, readyServices: Ipv6OnlyResult, notReady: Ipv6OnlyResult }

async function measure (w: World, services: string[]): Promise<Ipv6OnlyResult> {
  const r = new Resolver({ timeout: 2000, tries: 1 })
  r.setServers([`[::1]:${w.dns.port}`])
  return await ipv6OnlyReadiness({ server: `http://speed.test:${w.httpPort}`, services: services.map((h) => `http://${h}:${w.httpPort}/`), clock: systemClock, io: { resolve6: async (n) => await r.resolve6(n) }, timeoutMs: 2000 })
}

beforeAll(async () => {
  nat64 = await startWorld({ nat64: true })
  plain = await startWorld({ nat64: false })
  probed = {
    readyNat64: await measure(nat64, ['portal.test']),
    readyServices: await measure(plain, ['portal.test', 'dichvucong.test']),
    notReady: await measure(plain, ['portal.test', 'v4only.test'])
  }
})

afterAll(async () => {
  await nat64.close()
  await plain.close()
})

describe.each(backends)('IPv6-only readiness in the IPv6 report ($name)', ({ open }) => {
  let store: StoresFixture
  let v6: { geo: GeoStore, ipv6: Ipv6Store }
  const ag: Record<string, Agency> = {}

  beforeAll(async () => {
    store = await seededStores(open)
    v6 = store.stores
    const make = async (name: string, legacyCommune: string): Promise<Agency> => await store.agency(name, legacyCommune, { category: 'organisation', connectionClass: 'fixed', isp: 'VNPT' })
    const send = async (agency: Agency, records: ResultRecord[]): Promise<void> => {
      const out = await ingestAlone(store.stores.results, store.ingestor, await store.agent(agency, `${agency.name}-pc`), agency, records, Date.parse(records.at(-1)?.measuredAt ?? '') + 1000)
      expect(out.rejected, JSON.stringify(out.items)).toBe(0)
    }
    const k608 = (await v6.geo.communes('2025-03', '62', '608'))[0]?.code ?? ''
    ag.n = await make('N Sở có NAT64', k608)
    ag.s = await make('S UBND dịch vụ qua IPv6', k608)
    ag.x = await make('X Trung tâm chưa sẵn sàng', k608)
    ag.u = await make('U Trạm chưa đo', k608)
    const { readyNat64, readyServices, notReady } = probed
    // N was not ready early in the month; its latest result of the period counts.
    await send(ag.n, [ipv6OnlyRecord(OCT - 5 * 86_400_000, notReady), ipv6OnlyRecord(OCT, readyNat64)])
    await send(ag.s, [ipv6OnlyRecord(OCT, readyServices)])
    // X was ready in September, not in October.
    await send(ag.x, [ipv6OnlyRecord(Date.UTC(2026, 8, 20), readyServices), ipv6OnlyRecord(OCT, notReady)])
  })

  afterAll(async () => {
    await store?.close()
  })

  it('per agency: the latest result of the period, with NAT64, its prefix and the services', async () => {
    const r = await ipv6Report(v6, { level: 'agency', period: '2026-10' })
    const by = new Map(r.agencies.map((a) => [a.agencyId, a.ipv6Only]))
    expect(by.get(ag.n!.id)).toMatchObject({ ready: true, basis: 'nat64', nat64: true, nat64Prefixes: ['64:ff9b::/96'], ipv6Connect: true, servicesOk: 1, servicesTotal: 1 })
    expect(by.get(ag.s!.id)).toMatchObject({ ready: true, basis: 'services', nat64: false, servicesOk: 2, servicesTotal: 2 })
    expect(by.get(ag.x!.id)).toMatchObject({ ready: false, basis: null, nat64: false, servicesOk: 1, servicesTotal: 2, servicesFailing: ['v4only.test'] })
    expect(by.get(ag.u!.id)).toBeNull()
    const sep = await ipv6Report(v6, { level: 'agency', period: '2026-09' })
    expect(sep.agencies.find((a) => a.agencyId === ag.x!.id)?.ipv6Only?.ready).toBe(true)
  })

  it('per area: measured and ready agencies, and the 2030 IPv6-only target measured over every agency of the area', async () => {
    const r = await ipv6Report(v6, { level: 'legacy_district', period: '2026-10' })
    const a = r.areas.find((x) => x.code === '608')
    expect(a?.agencies).toBe(4)
    expect(a?.ipv6Only).toEqual({ measured: 3, ready: 2, readyShare: 2 / 4 })
    const goal = a?.targets.find((t) => t.id === 'bkhcn-2030-ipv6-only-agencies')
    expect(goal).toMatchObject({ metric: 'ipv6_only', requiredShare: 1, measuredShare: 0.5, met: false })
    expect(goal?.note).not.toContain('does not measure')
  })

  it('an area with no IPv6-only result in the period leaves the target unmeasured, saying why', async () => {
    const r = await ipv6Report(v6, { level: 'legacy_district', period: '2026-08' })
    for (const a of r.areas) {
      expect(a.ipv6Only).toEqual({ measured: 0, ready: 0, readyShare: null })
      const goal = a.targets.find((t) => t.id === 'bkhcn-2030-ipv6-only-agencies')
      expect(goal).toMatchObject({ measuredShare: null, met: null })
      expect(goal?.note).toContain('No IPv6-only readiness result')
    }
  })

  it('the spreadsheet carries the IPv6-only columns per agency and per area', async () => {
    const agencyTable = ipv6Table(await ipv6Report(v6, { level: 'agency', period: '2026-10' }))
    const col = agencyTable.headings.indexOf('Sẵn sàng chỉ dùng IPv6 (IPv6-only)')
    expect(col).toBeGreaterThan(0)
    const row = agencyTable.rows.find((r) => r.includes(ag.n!.id))
    expect(row?.slice(col, col + 4)).toEqual(['Có', 'Có', '64:ff9b::/96', '1/1'])
    const areaTable = ipv6Table(await ipv6Report(v6, { level: 'legacy_district', period: '2026-10' }))
    const row608 = areaTable.rows.find((r) => r[2] === '608')
    expect(row608?.slice(-3)).toEqual([3, 2, 50])
  })
})
