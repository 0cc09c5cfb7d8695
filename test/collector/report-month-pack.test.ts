import { afterEach, describe, expect, it } from 'vitest'
import { districtReport } from '../../collector/reports/district-report.js'
import { areasReport } from '../../collector/reports/areas-report.js'
import { parsePeriod } from '../../shared/period.js'
import { readMonthRows } from '../../collector/reports/rollup-reader.js'
import { decodePack, encodePack } from '../../collector/storage/month-pack.js'
import { buildMonthPacks } from '../../collector/reports/month-pack-job.js'
import { overviewReport } from '../../collector/reports/overview.js'
import { trendReport } from '../../collector/reports/trend.js'
import { distributionReport } from '../../collector/reports/distribution.js'
import { agencyReport } from '../../collector/reports/agency-report.js'
import { officialReport } from '../../collector/reports/official-report.js'
import { dashboardContext } from '../../collector/dashboard/context.js'
import type { ReportRules } from '../../collector/reports/rules.js'
import { seededDb, type Fixture } from './report-fixtures.js'

/*
 * Month packs (migration 021): a closed month of a province is read from one blob built from its
 * rollup rows by the month-pack job, and dropped by any change to that month's rows. Reports
 * only read: before its pack is built a month is read from its rows, with the same figures.
 */
const RULES: ReportRules = { minRepresentativeSamples: 3, minAgents: 2, minBusyHourSamplesPerAgent: 1, qcvn34MinTests: 1000 }
const NOW = new Date('2026-11-02T03:00:00Z')
const ROLLING = parsePeriod('rolling12', '2026-10', 'all')

let f: Fixture | undefined
afterEach(async () => { await f?.close(); f = undefined })

async function fleet (): Promise<{ fx: Fixture, agencyA: string, late: () => Promise<void> }> {
  const fx = await seededDb()
  const A = await fx.agency('A', '23281', { category: 'organisation', connectionClass: 'fixed', isp: 'VNPT' })
  const B = await fx.agency('B', '23281', { category: 'public_access_point', connectionClass: '4g', isp: 'Viettel' })
  const a1 = await fx.agent(A, 'A1')
  const b1 = await fx.agent(B, 'B1')
  await fx.ingest(a1, A, [
    { at: '2026-09-07 09:10', down: 500, up: 200, idle: 10 }, // Monday office
    { at: '2026-09-07 09:40', down: 700, up: 220, idle: 14 }, // same hour: one sample, median 600
    { at: '2026-09-07 20:00', down: 900, up: 300 }, // evening, no latency
    { at: '2026-10-05 14:00', down: 800, up: 400, idle: 9 },
    { at: '2026-10-10 10:00', down: 650, up: 250, idle: 11, offsetMs: null }, // untrusted clock: band unknown
    { at: '2026-10-07 09:00', kind: 'skip' }
  ])
  await fx.ingest(b1, B, [
    { at: '2026-09-08 10:00', down: 40, up: 10, idle: 40 },
    { at: '2026-10-06 10:00', down: 60, up: 15, idle: 35 },
    { at: '2026-10-06 21:00', down: 30, idle: 50 }
  ])
  return { fx, agencyA: A.id, late: async () => { await fx.ingest(b1, B, [{ at: '2026-09-08 10:30', down: 80, up: 20, idle: 30 }]) } }
}

// The packs are the SQLite store's own table; this file reads it directly to see what was built.
const packs = (fx: Fixture): Array<{ month: string, scope: string, code: string }> =>
  fx.db.prepare('SELECT month, scope, code FROM rollup_month_pack ORDER BY month, scope, code').all() as Array<{ month: string, scope: string, code: string }>

describe('rollup month packs', () => {
  it('encode/decode keeps every row, attribute and sample exactly', async () => {
    const { fx } = await fleet()
    f = fx
    const rows = await readMonthRows(fx.stores.rollups, { column: 'legacy_province_code', code: '62' }, ROLLING, Date.parse('2025-11-15T00:00:00Z')) // no month of it closed yet: rows
    expect(rows.length).toBeGreaterThan(4)
    expect(packs(fx)).toEqual([])
    const byMonth = (m: string): typeof rows => rows.filter((r) => r.month === m)
    for (const m of ['2026-09', '2026-10']) {
      for (const layout of [1, 2] as const) {
        const back = decodePack(encodePack(byMonth(m), layout), m)
        expect(back).toEqual(byMonth(m))
        // Keys in the order of a row read from the table: one hidden class for every row a report reads.
        for (const r of back!) expect(Object.keys(r)).toEqual(Object.keys(byMonth(m)[0]!))
      }
    }
    const b = encodePack(byMonth('2026-10'), 1)
    b.write('{"v":9', 4, 'utf8') // another layout version is not read
    expect(decodePack(b, '2026-10')).toBeNull()
  })

  it('layout 2 keeps every value bit for bit, on the 0.0005 grid or off it', async () => {
    const { fx } = await fleet()
    f = fx
    const [row] = await readMonthRows(fx.stores.rollups, { column: 'legacy_province_code', code: '62' }, ROLLING, Date.parse('2025-11-15T00:00:00Z'))
    const bits = (a: Float64Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex')
    const cases: Float64Array[] = [
      Float64Array.of(12.345, 12.3455, 40, 941.5, 1000.001), // results to 0.001 and medians of two
      Float64Array.of(0.1 + 0.2, 7), // off the grid: a list of float64s
      Float64Array.of(-0, 0, 5e-324), // signed zero and the smallest double
      Float64Array.of(300, 12.5, 12.5, 0.0005), // not sorted: negative differences
      Float64Array.of(2 ** 40, 2 ** 40 + 0.5, 4e12), // large differences: long varints
      new Float64Array(0)
    ]
    for (const repDown of cases) {
      const rows = [{ ...row!, repDown, repUp: repDown.slice().reverse(), repIdle: new Float64Array(0), sumTestDown: 0.1 + 0.2, sumTestUp: 1e300, sumTestIdle: -0 }]
      const [back] = decodePack(encodePack(rows, 2), row!.month)!
      expect(bits(back!.repDown)).toBe(bits(repDown))
      expect(bits(back!.repUp)).toBe(bits(rows[0]!.repUp))
      expect(back!.repIdle.length).toBe(0)
      expect([Object.is(back!.sumTestDown, 0.1 + 0.2), back!.sumTestUp, Object.is(back!.sumTestIdle, -0)]).toEqual([true, 1e300, true])
      expect({ ...back, repDown: null, repUp: null, repIdle: null }).toEqual({ ...rows[0], repDown: null, repUp: null, repIdle: null })
    }
    // On the grid a sorted list takes a few bytes a value, a quarter of layout 1's float64s.
    const grid = Float64Array.from({ length: 2000 }, (_, i) => Math.round(i * 150.123) / 1000)
    const sizes = ([1, 2] as const).map((layout) => encodePack([{ ...row!, repDown: grid, repUp: grid, repIdle: grid }], layout).length)
    expect(sizes[1]! * 3).toBeLessThan(sizes[0]!)
  })

  it('no report writes: every report, the official one and the dashboard context leave the database as it was', async () => {
    const { fx, agencyA: agencyId } = await fleet()
    f = fx
    const changes = (): number => fx.db.prepare('SELECT total_changes()').pluck().get() as number
    const before = changes()
    const now = NOW.getTime()
    await districtReport(fx.stores, '62', NOW, { period: ROLLING, rules: RULES })
    await areasReport(fx.stores, { level: 'legacy_district', province: '62', period: ROLLING, split: 'isp', rules: RULES, now })
    await areasReport(fx.stores, { level: 'province', period: ROLLING, rules: RULES, now })
    await overviewReport(fx.stores, { province: '51', version: '2025-07', period: ROLLING, rules: RULES, now })
    await trendReport(fx.stores, { level: 'legacy_district', code: '608', months: 12, end: '2026-10', rules: RULES, now })
    await distributionReport(fx.stores, { level: 'legacy_district', code: '608', period: ROLLING, metric: 'download', rules: RULES, now })
    const agency = await agencyReport(fx.stores, agencyId, { period: ROLLING, rules: RULES, now })
    expect(agency.agency.name).toBe('A')
    const official = await officialReport(fx.stores, { province: '62', version: '2025-03', period: ROLLING, rules: RULES, departmentName: 'Sở KH&CN', now })
    expect(official.report).toBe('official')
    await dashboardContext(fx.stores.rollups, { departmentName: 'x', version: '1', sample: false }, now)
    expect(changes()).toBe(before)
    expect(packs(fx)).toEqual([])
  })

  it('a report writes no pack; the job builds one per closed month and province; reports read them and give the same figures', async () => {
    const { fx } = await fleet()
    f = fx
    const changes = (): number => fx.db.prepare('SELECT total_changes()').pluck().get() as number
    const before = changes()
    const fromRows = await districtReport(fx.stores, '62', NOW, { period: ROLLING, rules: RULES })
    await areasReport(fx.stores, { level: 'province', province: '51', code: '51', period: ROLLING, rules: RULES, now: NOW.getTime() })
    expect(changes()).toBe(before)
    expect(packs(fx)).toEqual([])
    // Closed months with rows only (2026-09 and 2026-10), in both geographies; the open month never.
    expect(await buildMonthPacks(fx.stores.rollups, NOW.getTime())).toBe(4)
    expect(packs(fx)).toEqual([
      { month: '2026-09', scope: 'legacy_province_code', code: '62' },
      { month: '2026-09', scope: 'province_code', code: '51' },
      { month: '2026-10', scope: 'legacy_province_code', code: '62' },
      { month: '2026-10', scope: 'province_code', code: '51' }
    ])
    expect(await buildMonthPacks(fx.stores.rollups, NOW.getTime())).toBe(0) // nothing missing
    const fromPacks = await districtReport(fx.stores, '62', NOW, { period: ROLLING, rules: RULES })
    expect(fromPacks).toEqual(fromRows)
    const d = fromPacks.districts.find((x) => x.districtCode === '608')!
    // A1: 600, 900, 800, 650; B1: 40, 60, 30 -> 7 samples, median 600
    expect(d.coverage.representativeSamples).toBe(7)
    expect(d.downloadMedianMbps).toBe(600)
    const current = await areasReport(fx.stores, { level: 'province', province: '51', code: '51', period: ROLLING, rules: RULES, now: NOW.getTime() })
    expect(current.rows[0]!.coverage.representativeSamples).toBe(7)
    // A pack is served as stored: the report reads the blob, not the rows.
    const pack = fx.db.prepare("SELECT pack FROM rollup_month_pack WHERE month = '2026-10' AND scope = 'legacy_province_code'").pluck().get() as Buffer
    const rows = decodePack(pack, '2026-10')!
    fx.db.prepare("UPDATE rollup_month_pack SET pack = ? WHERE month = '2026-10' AND scope = 'legacy_province_code'").run(encodePack(rows.filter((r) => r.agentId !== rows[0]!.agentId), 1))
    const fewer = await readMonthRows(fx.stores.rollups, { column: 'legacy_province_code', code: '62' }, parsePeriod('2026-10', undefined, 'all'), NOW.getTime())
    expect(fewer.length).toBeLessThan(rows.length)
  })

  it('a late result drops the packs of its month, in its own transaction, and the next report counts it', async () => {
    const { fx, late } = await fleet()
    f = fx
    await buildMonthPacks(fx.stores.rollups, NOW.getTime())
    await late()
    expect(packs(fx).some((p) => p.month === '2026-09')).toBe(false)
    expect(packs(fx).some((p) => p.month === '2026-10')).toBe(true)
    const d = (await districtReport(fx.stores, '62', NOW, { period: ROLLING, rules: RULES })).districts.find((x) => x.districtCode === '608')!
    expect(d.coverage.representativeSamples).toBe(7) // B1's 10:00 hour now has two tests: still one sample, median 60
    expect(d.figures.downloadMean.value).toBe(Math.round((600 + 900 + 800 + 650 + 60 + 60 + 30) / 7 * 100) / 100)
    expect(await buildMonthPacks(fx.stores.rollups, NOW.getTime())).toBe(2)
    expect(await districtReport(fx.stores, '62', NOW, { period: ROLLING, rules: RULES })).toEqual(await districtReport(fx.stores, '62', NOW, { period: ROLLING, rules: RULES }))
  })

  it('a rebuild and a write through another connection drop packs too', async () => {
    const { fx } = await fleet()
    f = fx
    await buildMonthPacks(fx.stores.rollups, NOW.getTime())
    expect(packs(fx).length).toBe(4)
    await fx.stores.results.rebuildRollups()
    expect(packs(fx)).toEqual([])
    await buildMonthPacks(fx.stores.rollups, NOW.getTime())
    const { openDatabase } = await import('../../collector/storage/db.js')
    const { join } = await import('node:path')
    const other = openDatabase(join(fx.dir, 'collector.sqlite'))
    other.prepare("UPDATE rollup_agent_month SET isp = 'FPT' WHERE month = '2026-10'").run()
    other.close()
    expect(packs(fx).some((p) => p.month === '2026-10')).toBe(false)
    const split = await areasReport(fx.stores, { level: 'legacy_district', province: '62', code: '608', period: ROLLING, split: 'isp', rules: RULES, now: NOW.getTime() })
    expect(split.rows.filter((r) => r.split !== null).map((r) => r.split?.value)).toContain('FPT')
  })
})
