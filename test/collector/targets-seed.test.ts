import { describe, it, expect } from 'vitest'
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openDatabase } from '../../collector/storage/db.js'
import { loadTargets } from '../../collector/geo/load-geography.js'
import { SqliteGeoStore } from '../../collector/storage/sqlite/geo.js'

const SEEDS = resolve(dirname(fileURLToPath(import.meta.url)), '../../seeds')

interface Source { document: string, issuer: string, date: string | null }
interface Entry {
  id: string
  scope: string
  region: null | { version: string, code: string }
  year: number | null
  metric: string
  connectionClasses: string[]
  categories: string[]
  statistic: string
  thresholdMbps?: number | null
  requiredShare?: number | null
  source: Source
  status: 'confirmed' | 'unconfirmed'
  [key: string]: unknown
}
interface Gap { document: string, issuer: string, date: string | null, why: string, citedBy?: string }
interface Seed { selection: string, statistics: Record<string, string>, targets: Entry[], rules: Entry[], knownGaps: Gap[] }

const seed = JSON.parse(readFileSync(resolve(SEEDS, 'targets.json'), 'utf8')) as Seed
const byId = (id: string): Entry => {
  const t = [...seed.targets, ...seed.rules].find(e => e.id === id)
  if (t === undefined) throw new Error(`no entry ${id}`)
  return t
}

const CLASSES = ['fixed', '4g', '5g', 'leased_line']
/** Agency categories, plus the populations no agency record has (their targets leave every agency out). */
const CATEGORIES = ['organisation', 'public_access_point']
const POPULATIONS = [...CATEGORIES, 'household']

/** The selection the "selection" note describes, for national targets, for an agency in a high-tech zone or not. */
function nationalFor (year: number, connectionClass: string, category: string, inZone = false): Entry[] {
  return seed.targets.filter(t => t.scope === 'national' && t.year === year && t.metric === 'download_mbps' &&
    t.connectionClasses.includes(connectionClass) && t.categories.includes(category) && (inZone || t['inHighTechZone'] !== true))
}

function provincialFor (province: string, year: number, connectionClass: string, category: string, inZone = false): Entry[] {
  return seed.targets.filter(t => t.scope === 'provincial' && t.region?.version === '2025-03' && t.region.code === province &&
    t.year === year && t.metric === 'download_mbps' && t.connectionClasses.includes(connectionClass) && t.categories.includes(category) &&
    (inZone || t['inHighTechZone'] !== true))
}

describe('seeds/targets.json', () => {
  it('gives every target and rule a unique id, a source document and a status; every target a year', () => {
    const all = [...seed.targets, ...seed.rules]
    expect(new Set(all.map(t => t.id)).size).toBe(all.length)
    for (const t of all) {
      expect(t.source.document, t.id).toMatch(/\S/)
      expect(t.source.issuer, t.id).toMatch(/\S/)
      expect(['confirmed', 'unconfirmed'], t.id).toContain(t.status)
      expect(Object.keys(seed.statistics), t.id).toContain(t.statistic)
      for (const c of t.connectionClasses) expect(CLASSES, t.id).toContain(c)
      for (const c of t.categories) expect(POPULATIONS, t.id).toContain(c)
      expect(t['appliesTo'], t.id).toMatch(/\S/)
      expect((t.source as Source & { line?: string }).line, t.id).toMatch(/\S/)
      for (const u of (t['unitTypes'] as string[] | undefined) ?? []) expect(['phường', 'xã', 'đặc khu'], t.id).toContain(u)
      if (t.source.date !== null) expect(t.source.date, t.id).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    }
    for (const t of seed.targets) {
      expect(Number.isInteger(t.year), t.id).toBe(true)
      expect(['national', 'provincial'], t.id).toContain(t.scope)
      if (t.scope === 'provincial') expect(t.region?.version, t.id).toBe('2025-03')
      else expect(t.region, t.id).toBeNull()
    }
    for (const r of seed.rules) expect(r.scope).toBe('regulation')
  })

  it('has the national QĐ 36 figures for 2025: 40 / 100 / 200 (90 %) / 1,000 (90 %) / high-tech minimum 1,000', () => {
    const fig = (id: string): unknown[] => { const t = byId(id); return [t.source.document, t.year, t.statistic, t.thresholdMbps, t.requiredShare ?? null, t.status] }
    expect(fig('qd36-2025-mobile-4g')).toEqual(['QĐ 36/QĐ-TTg', 2025, 'ispeed_area_mean_at_least', 40, null, 'confirmed'])
    expect(fig('qd36-2025-mobile-5g')).toEqual(['QĐ 36/QĐ-TTg', 2025, 'ispeed_area_mean_at_least', 100, null, 'confirmed'])
    expect(fig('qd36-2025-fixed-household')).toEqual(['QĐ 36/QĐ-TTg', 2025, 'share_of_lines_mean_at_least', 200, 0.9, 'confirmed'])
    expect(fig('qd36-2025-organisation')).toEqual(['QĐ 36/QĐ-TTg', 2025, 'share_of_lines_mean_at_least', 1000, 0.9, 'confirmed'])
    expect(fig('qd36-2025-high-tech-zone')).toEqual(['QĐ 36/QĐ-TTg', 2025, 'share_of_lines_min_at_least', 1000, 1, 'confirmed'])
    expect(byId('qd36-2025-fixed-household').source.date).toBe('2024-01-11')
    expect(fig('national-2030-fixed-1gbps')).toEqual(['QĐ 1132/QĐ-TTg', 2030, 'share_of_lines_mean_at_least', 1000, 1, 'confirmed'])
  })

  it('selects one national target per connection class and category', () => {
    const pick = (year: number, cls: string, cat: string): Array<string | number | null | undefined> =>
      nationalFor(year, cls, cat).map(t => t.thresholdMbps)
    // The 200 Mb/s target is for households: no agency category is in its scope.
    expect(pick(2025, 'fixed', 'public_access_point')).toEqual([])
    expect(pick(2025, 'fixed', 'household')).toEqual([200])
    expect(pick(2025, 'fixed', 'organisation')).toEqual([1000])
    expect(pick(2025, 'leased_line', 'organisation')).toEqual([1000])
    expect(pick(2025, 'leased_line', 'public_access_point')).toEqual([])
    for (const cat of CATEGORIES) {
      expect(pick(2025, '4g', cat)).toEqual([40])
      expect(pick(2025, '5g', cat)).toEqual([100])
    }
    expect(nationalFor(2025, 'fixed', 'household').map(t => t.id)).toEqual(['qd36-2025-fixed-household'])
    // Urban organisations only ("in urban areas"): the 2025 unit type phường.
    expect(byId('qd36-2025-organisation')['unitTypes']).toEqual(['phường'])
    expect(byId('kt2391-2025-organisation')['unitTypes']).toEqual(['phường'])
    expect(byId('bn333-2025-organisation')['unitTypes']).toBeUndefined()
    expect(nationalFor(2025, 'fixed', 'organisation').map(t => t.id)).toEqual(['qd36-2025-organisation'])
    for (const cls of ['fixed', 'leased_line']) {
      for (const cat of CATEGORIES) expect(pick(2030, cls, cat)).toEqual([1000])
    }
    expect(seed.selection).toMatch(/connectionClasses/)
    expect(seed.selection).toMatch(/categories/)
  })

  it('has Cà Mau 250/KH-UBND for every year 2023-2025, 4G and fixed', () => {
    const yearly = (cls: string): Record<number, number | null | undefined> => Object.fromEntries(
      seed.targets.filter(t => t.region?.code === '96' && t.connectionClasses.includes(cls))
        .map(t => [t.year, t.thresholdMbps]))
    expect(yearly('4g')).toEqual({ 2023: 45, 2024: 60, 2025: 80 })
    expect(yearly('fixed')).toEqual({ 2023: 80, 2024: 100, 2025: 120 })
    for (const t of seed.targets.filter(t => t.region?.code === '96')) {
      expect(t.source).toMatchObject({ document: 'Kế hoạch 250/KH-UBND', date: '2023-10-12' })
      expect(t.status).toBe('confirmed')
    }
    expect(byId('cm250-2023-mobile-4g')['baseline']).toMatchObject({ mbps: 40 })
    expect(byId('cm250-2023-fixed')['baseline']).toMatchObject({ mbps: 80 })
    expect(provincialFor('96', 2024, '4g', 'organisation').map(t => t.thresholdMbps)).toEqual([60])
  })

  it('has the Bắc Ninh, Tuyên Quang and Kon Tum plans for their pre-merger provinces', () => {
    expect(provincialFor('27', 2025, 'fixed', 'household').map(t => [t.thresholdMbps, t.requiredShare])).toEqual([[200, 0.9]])
    // Kế hoạch 333 says every high-tech zone: 100 %.
    expect(byId('bn333-2025-high-tech-zone')).toMatchObject({ statistic: 'share_of_lines_min_at_least', thresholdMbps: 1000, requiredShare: 1, inHighTechZone: true })
    // An agency in a high-tech zone is also held against the zone targets (a per-line minimum, 100 %).
    expect(provincialFor('27', 2025, 'leased_line', 'organisation', true).map(t => [t.id, t.thresholdMbps, t.requiredShare])).toEqual([['bn333-2025-organisation', 1000, 0.9], ['bn333-2025-high-tech-zone', 1000, 1]])
    expect(nationalFor(2025, 'fixed', 'public_access_point', true).map(t => t.id)).toEqual(['qd36-2025-high-tech-zone'])
    expect(provincialFor('27', 2025, 'leased_line', 'organisation').map(t => [t.thresholdMbps, t.requiredShare])).toEqual([[1000, 0.9]])
    expect(provincialFor('27', 2025, '4g', 'organisation').map(t => t.thresholdMbps)).toEqual([70])
    expect(byId('bn333-2025-mobile').source.document).toBe('Kế hoạch 333/KH-UBND')

    // Tuyên Quang's figures are i-Speed province figures, not shares of lines.
    const tq = seed.targets.filter(t => t.region?.code === '08')
    expect(tq.map(t => [t.connectionClasses.join('+'), t.statistic, t.thresholdMbps, (t['baseline'] as { mbps: number }).mbps])).toEqual([
      ['fixed', 'ispeed_area_mean_at_least', 120, 92.05],
      ['4g+5g', 'ispeed_area_mean_at_least', 75, 74.86]
    ])
    expect(tq.every(t => t.source.document === 'Kế hoạch 24/KH-UBND' && t.requiredShare === null)).toBe(true)

    const kt = Object.fromEntries(seed.targets.filter(t => t.region?.code === '62').map(t => [t.id, [t.year, t.thresholdMbps, t.requiredShare ?? null]]))
    expect(kt).toEqual({
      'kt2391-2025-fixed-household': [2025, 200, 0.9],
      'kt2391-2025-organisation': [2025, 1000, 0.9],
      'kt2391-2025-mobile-4g': [2025, 40, null],
      'kt2391-2025-mobile-5g': [2025, 100, null],
      'kt2391-2025-ipv6-agencies': [2025, null, 1],
      'kt2391-2030-fixed-1gbps': [2030, 1000, 1]
    })
    expect(byId('kt2391-2025-ipv6-agencies').metric).toBe('ipv6_conversion')
  })

  it('accounts for each of the five provincial plan documents: targets, or a known gap naming the document', () => {
    const documents = new Set(seed.targets.map(t => t.source.document))
    for (const d of ['Kế hoạch 333/KH-UBND', 'Kế hoạch 250/KH-UBND', 'Kế hoạch 24/KH-UBND', 'Kế hoạch 2391/KH-UBND']) expect(documents).toContain(d)
    const gaps = Object.fromEntries(seed.knownGaps.map(g => [g.document, g]))
    expect(gaps['Kế hoạch 4627/KH-UBND']).toMatchObject({ issuer: 'UBND tỉnh Kon Tum', date: '2023-12-29' })
    expect(gaps['Kế hoạch 3148/KH-UBND']).toMatchObject({ citedBy: 'Kế hoạch 4627/KH-UBND' })
    expect(gaps['Kế hoạch 3076/KH-UBND']).toMatchObject({ citedBy: 'Kế hoạch 4627/KH-UBND' })
    for (const g of seed.knownGaps) expect(g.why, g.document).toMatch(/not available/)
  })

  it('has the IPv6 policy targets of QĐ 38/QĐ-BTTTT', () => {
    expect(byId('qd38-2025-ipv6-plan-and-portals')).toMatchObject({ year: 2025, requiredShare: 1, source: { document: 'QĐ 38/QĐ-BTTTT', date: '2021-01-14' } })
    expect(byId('qd38-2022-ipv6-plan-and-portals')).toMatchObject({ year: 2022, requiredShare: 0.5 })
  })

  it('has the QCVN 34:2022 and QCVN 126:2021 rules', () => {
    expect(byId('qcvn-34-2022')).toMatchObject({
      ratioOfPlan: 0.8,
      directions: ['download', 'upload'],
      minSamplesPerDirection: 1000,
      connectionClasses: ['fixed'],
      status: 'confirmed'
    })
    expect(byId('qcvn-126-2021')).toMatchObject({
      meanDownloadMbpsAtLeast: 100,
      meanUploadMbpsAtLeast: 30,
      shareOfSamplesDownloadAtLeast: { thresholdMbps: 30, share: 0.95 },
      meanLatencyMsAtMost: 50,
      connectionClasses: ['5g'],
      status: 'confirmed'
    })
    // The draft QCVN 81 amendment is not adopted as far as we know.
    expect(byId('qcvn-81-2019-amd1-2023-draft').status).toBe('unconfirmed')
  })

  it('loads into the target table with the entry as body', async () => {
    const db = openDatabase(':memory:')
    const geo = new SqliteGeoStore(db)
    expect(await loadTargets(geo, SEEDS)).toEqual({ targets: seed.targets.length, rules: seed.rules.length })
    const row = db.prepare("SELECT scope, year FROM target WHERE id = 'qd36-2025-fixed-household'").get() as { scope: string, year: number }
    expect(row.scope).toBe('national')
    expect(row.year).toBe(2025)
    expect((await geo.targets()).find((t) => t.id === 'qd36-2025-fixed-household')).toEqual(byId('qd36-2025-fixed-household'))
    expect(db.prepare("SELECT year FROM target WHERE id = 'qcvn-34-2022'").pluck().get()).toBeNull()
    // A province's own target survives a reload.
    await geo.upsertTargets([{ id: 'local-1', scope: 'provincial', year: 2026, body: { id: 'local-1' } }])
    await loadTargets(geo, SEEDS)
    expect((await geo.targets()).filter((t) => t.id === 'local-1')).toEqual([{ id: 'local-1' }])
    expect((await geo.targets()).map((t) => t.id)).toEqual([...seed.targets, ...seed.rules, { id: 'local-1' }].map((t) => t.id).sort())
  })
})
