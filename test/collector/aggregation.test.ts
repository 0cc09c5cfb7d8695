import { afterEach, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { hourStart, timeBand } from '../../collector/aggregation/time-bands.js'
import { vnMonth } from '../../shared/vn-time.js'
import { percentilesInPlace, insertSorted, removeSorted, Scratch } from '../../collector/aggregation/float-blob.js'
import { computeGroup } from '../../collector/reports/figures.js'
import { DEFAULT_REPORT_RULES } from '../../collector/reports/rules.js'
import type { MonthRow } from '../../collector/storage/stores.js'
import { ingestAlone } from '../../collector/ingest/ingest.js'
import { CLOCK_FLAGS } from '../../collector/ingest/clock.js'
import { percentile } from '../../shared/stats.js'
import { record, seededDb, seededStores, type StoresFixture, type Sample } from './report-fixtures.js'
import { backends, type TestStores } from '../helpers/stores.js'

const at = (ict: string): number => Date.parse(`${ict.replace(' ', 'T')}:00+07:00`)

describe('time bands (ICT)', () => {
  it('office hours on working days, evening, other, and untrusted clocks', () => {
    // 2026-10-05 is a Monday, 2026-10-10 a Saturday.
    expect(timeBand(at('2026-10-05 08:00'), 0)).toBe('office')
    expect(timeBand(at('2026-10-05 11:29'), 0)).toBe('office')
    expect(timeBand(at('2026-10-05 11:30'), 0)).toBe('other')
    expect(timeBand(at('2026-10-05 13:30'), 0)).toBe('office')
    expect(timeBand(at('2026-10-05 17:00'), 0)).toBe('other')
    expect(timeBand(at('2026-10-05 19:00'), 0)).toBe('evening')
    expect(timeBand(at('2026-10-05 22:59'), 0)).toBe('evening')
    expect(timeBand(at('2026-10-05 23:00'), 0)).toBe('other')
    expect(timeBand(at('2026-10-10 09:00'), 0)).toBe('other')
    expect(timeBand(at('2026-10-10 20:00'), 0)).toBe('evening')
    expect(timeBand(at('2026-10-05 09:00'), CLOCK_FLAGS.CLOCK_UNKNOWN)).toBe('unknown')
    expect(timeBand(at('2026-10-05 09:00'), CLOCK_FLAGS.CLOCK_SKEW)).toBe('unknown')
    // A late delivery says nothing about the clock.
    expect(timeBand(at('2026-10-05 09:00'), CLOCK_FLAGS.LATE)).toBe('office')
  })

  it('months and hours follow Vietnam time', () => {
    expect(vnMonth(Date.parse('2026-10-31T16:59:59Z'))).toBe('2026-10')
    expect(vnMonth(Date.parse('2026-10-31T17:00:00Z'))).toBe('2026-11') // 00:00 ICT on 1 November
    expect(hourStart(at('2026-10-05 09:59'))).toBe(at('2026-10-05 09:00'))
  })
})

describe('sample arrays', () => {
  it('selection gives the same type-7 percentiles as sorting', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 0, max: 50 }).map((x) => x * 7.5), { minLength: 1, maxLength: 3000 }),
      fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 4 }),
      (values, ps) => {
        const got = percentilesInPlace(Float64Array.from(values), ps)
        expect(got).toEqual(ps.map((p) => percentile(values, p)))
      }))
  })

  it('a scratch array is reused up to its limit; a larger request gets an array of its own, not kept', () => {
    const s = new Scratch(100)
    const a = s.take(10)
    a.fill(7)
    const b = s.take(40)
    expect(b.length).toBe(40)
    expect(s.take(5).buffer).toBe(b.buffer)
    const big = s.take(101)
    expect(big.length).toBe(101)
    expect(big.buffer).not.toBe(b.buffer)
    expect(s.take(40).buffer).toBe(b.buffer)
  })

  it('area figures over reused work arrays do not depend on the groups computed before, smaller or larger', () => {
    // Rows as a store hands them over: sorted samples per agent, month and band.
    const rowsOf = (seed: number, agents: number): MonthRow[] => {
      let x = seed
      const rnd = (): number => { x = (x * 1103515245 + 12345) % 2147483648; return x / 2147483648 }
      const sorted = (n: number, base: number): Float64Array => Float64Array.from({ length: n }, () => Math.round(base * (0.5 + rnd()) * 1000) / 1000).sort()
      const rows: MonthRow[] = []
      for (let a = 0; a < agents; a++) {
        for (const month of ['2026-09', '2026-10']) {
          for (const band of ['office', 'evening'] as const) {
            const n = 1 + Math.floor(rnd() * 40)
            const repDown = sorted(n, 20 + 200 * rnd())
            rows.push({
              agentId: `a${seed}-${a}`,
              agencyId: `g${a % 3}`,
              month,
              band,
              connectionClass: 'fixed',
              isp: 'VNPT',
              communeCode: '1',
              provinceCode: '2',
              legacyDistrictCode: '611',
              legacyProvinceCode: '62',
              nResults: n,
              nSpeed: n,
              nValid: n,
              nSkip: 0,
              sumTestDown: 0,
              nTestUp: n,
              sumTestUp: 0,
              nTestIdle: n,
              sumTestIdle: 0,
              nTestDownGe30: 0,
              repDown,
              repUp: sorted(n, 30),
              repIdle: sorted(n, 15)
            })
          }
        }
      }
      return rows
    }
    const groups = [rowsOf(1, 30), rowsOf(2, 90), rowsOf(3, 5), rowsOf(4, 60)]
    const alone = groups.map((g) => JSON.stringify(computeGroup(g, DEFAULT_REPORT_RULES).figures))
    for (const i of [0, 1, 2, 3, 1, 0, 3, 2]) expect(JSON.stringify(computeGroup(groups[i] as MonthRow[], DEFAULT_REPORT_RULES).figures)).toBe(alone[i])
  })

  it('insert and remove keep order; removing an absent value is an error, not a silent miss', () => {
    let a: Float64Array = new Float64Array(0)
    for (const v of [5, 1, 3, 3, 9]) a = insertSorted(a, v)
    expect([...a]).toEqual([1, 3, 3, 5, 9])
    expect([...removeSorted(a, 3)]).toEqual([1, 3, 5, 9])
    expect(() => removeSorted(a, 4)).toThrow(/rollup inconsistency/)
  })
})

describe.each(backends)('rollups kept by the result store\'s commit ($name)', ({ name, open }) => {
  let f: StoresFixture<TestStores> | undefined
  afterEach(async () => { await f?.close(); f = undefined })

  /** Both rollup tables as stored, in one order: sums to 6 places (batch order moves their last bits), samples as hex. */
  const snapshot = async (fx: StoresFixture<TestStores>): Promise<unknown> => {
    const months = await fx.stores.rows('rollup_agent_month')
    const monthOf = new Map(months.map((m) => [Number(m.id), m.month]))
    const hex = (b: unknown): string => (b as Buffer).toString('hex')
    const round = (x: unknown): number => Math.round((x as number) * 1e6) / 1e6
    const key = (r: Record<string, unknown>, cols: string[]): string => cols.map((c) => String(r[c])).join('|')
    return {
      months: months.map((m) => ({
        ...Object.fromEntries(['agent_id', 'month', 'band', 'connection_class', 'isp', 'agency_id', 'commune_code', 'province_code', 'legacy_district_code',
          'legacy_province_code', 'n_results', 'n_speed', 'n_valid', 'n_skip', 'n_test_up', 'n_test_idle', 'n_test_down_ge30'].map((c) => [c, m[c]])),
        sd: round(m.sum_test_down),
        su: round(m.sum_test_up),
        si: round(m.sum_test_idle),
        d: hex(m.rep_down),
        u: hex(m.rep_up),
        i: hex(m.rep_idle)
      })).sort((a, b) => key(a, ['agent_id', 'month', 'band']) < key(b, ['agent_id', 'month', 'band']) ? -1 : 1),
      hours: (await fx.stores.rows('rollup_agent_hour')).map((h) => ({ agent: h.agent_id, hour: h.hour_start, band: h.band, month: monthOf.get(Number(h.month_id)), bytes: (h.tests as Buffer).length }))
        .sort((a, b) => `${a.agent}|${a.hour}|${a.band}` < `${b.agent}|${b.hour}|${b.band}` ? -1 : 1)
    }
  }

  it('incremental updates, in any batch order and with resends, equal a rebuild from the result table', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 1_000_000 }), async (seed) => {
      const fx = await seededStores(open)
      try {
        let s = seed
        const rnd = (): number => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648 }
        const A = await fx.agency('A', '23281', { category: 'organisation', connectionClass: 'fixed', isp: 'VNPT' })
        const agents = [await fx.agent(A, 'a1'), await fx.agent(A, 'a2')]
        const samples: Array<{ agent: number, s: Sample }> = []
        for (let i = 0; i < 40; i++) {
          const minute = Math.floor(rnd() * 5 * 24 * 60)
          const d = new Date(Date.parse('2026-10-29T00:00:00+07:00') + minute * 60_000 + 7 * 3_600_000)
          const atText = d.toISOString().slice(0, 16).replace('T', ' ')
          const r = rnd()
          samples.push({
            agent: rnd() < 0.5 ? 0 : 1,
            s: r < 0.1
              ? { at: atText, kind: 'skip' }
              : { at: atText, down: Math.round(rnd() * 500), up: rnd() < 0.2 ? null : Math.round(rnd() * 200), idle: Math.round(rnd() * 40), flags: r < 0.2 ? ['cross_traffic'] : [], offsetMs: rnd() < 0.1 ? null : 5 }
          })
        }
        const records = samples.map((x) => ({ agent: x.agent, r: record(x.s) }))
        // Deliver in shuffled batches, then resend a few (duplicates must not count twice).
        const shuffled = [...records].sort(() => rnd() - 0.5)
        for (let i = 0; i < shuffled.length; i += 7) {
          for (const k of [0, 1]) {
            const part = shuffled.slice(i, i + 7).filter((x) => x.agent === k).map((x) => x.r)
            if (part.length > 0) await ingestAlone(fx.stores.results, fx.ingestor, agents[k]!, A, part, Date.parse('2026-11-05T00:00:00Z'))
          }
        }
        const resend = records.filter((x) => x.agent === 0).slice(0, 3).map((x) => x.r)
        if (resend.length > 0) expect((await ingestAlone(fx.stores.results, fx.ingestor, agents[0]!, A, resend, Date.parse('2026-11-05T00:00:00Z'))).duplicate).toBe(resend.length)
        const incremental = await snapshot(fx)
        await fx.stores.results.rebuildRollups()
        expect(await snapshot(fx)).toEqual(incremental)
        const total = (await fx.stores.rows('rollup_agent_month')).reduce((n, m) => n + (m.n_results as number), 0)
        expect(total).toBe(samples.length)
      } finally {
        await fx.close()
      }
    }), { numRuns: 15 })
  }, 240_000) // 15 fresh stores with 40 results each; minutes on a busy machine

  it('reads a month\'s rows in the order they were created, also after a later result updates an earlier row, so reports add them alike on both stores', async () => {
    const fx = f = await seededStores(open)
    const A = await fx.agency('A', '23281', { category: 'organisation', connectionClass: 'fixed', isp: 'VNPT' })
    const agents = [await fx.agent(A, 'a1'), await fx.agent(A, 'a2'), await fx.agent(A, 'a3')]
    for (const [i, a] of agents.entries()) await fx.ingest(a, A, [{ at: `2026-09-0${i + 1} 09:00`, down: 10 + i }, { at: `2026-10-0${i + 1} 09:00`, down: 10 + i }])
    // The first agent's rows change last: on PostgreSQL the updated row moves to the end of the heap.
    await fx.ingest(agents[0]!, A, [{ at: '2026-09-09 09:00', down: 40 }, { at: '2026-10-09 09:00', down: 40 }])
    const ids = agents.map((a) => a.id)
    const province = { column: 'legacy_province_code' as const, code: '62' }
    const now = Date.parse('2026-10-20T00:00:00Z')
    const byMonth = await fx.stores.rollups.rowsByMonth(province, ['2026-09', '2026-10'], now)
    expect(byMonth.months.get('2026-09')!.map((r) => r.agentId)).toEqual(ids)
    expect(byMonth.months.get('2026-10')!.map((r) => r.agentId)).toEqual(ids)
    expect((await fx.stores.rollups.rowsInRange(province, '2026-09', '2026-10')).map((r) => `${r.month} ${r.agentId}`))
      .toEqual([...ids.map((id) => `2026-09 ${id}`), ...ids.map((id) => `2026-10 ${id}`)])
    expect((await fx.stores.rollups.rowsInRange({ column: null }, null, null)).map((r) => `${r.month} ${r.agentId}`))
      .toEqual(ids.flatMap((id) => [`2026-09 ${id}`, `2026-10 ${id}`]))
  })

  it('a failing ingest transaction leaves no rollup behind', async () => {
    f = await seededStores(open)
    const A = await f.agency('A', '23281', { category: 'organisation', connectionClass: 'fixed', isp: 'VNPT' })
    const a1 = await f.agent(A, 'a1')
    // The last write of the group's transaction fails (as a full disk would): results and rollups roll back with it.
    await f.stores.exec(name === 'sqlite'
      ? "CREATE TRIGGER full_disk BEFORE INSERT ON rollup_agent_hour BEGIN SELECT RAISE(ABORT, 'disk full'); END"
      : `CREATE FUNCTION full_disk () RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
         CREATE TRIGGER full_disk BEFORE INSERT ON rollup_agent_hour FOR EACH ROW EXECUTE FUNCTION full_disk()`)
    await expect(f.ingest(a1, A, [{ at: '2026-10-05 09:00', down: 100, up: 50, idle: 10 }])).rejects.toThrow('disk full')
    for (const table of ['result', 'rollup_agent_month', 'rollup_agent_hour']) expect(await f.stores.rows(table), table).toEqual([])
  })

  it('a collector opening a database whose rollups predate them rebuilds once', async () => {
    f = await seededStores(open)
    const A = await f.agency('A', '23281', { category: 'organisation', connectionClass: 'fixed', isp: 'VNPT' })
    await f.ingest(await f.agent(A, 'a1'), A, [{ at: '2026-10-05 09:00', down: 100 }, { at: '2026-10-05 09:20', down: 300 }])
    // As a database from before migration 020 (or an older rollup definition) is: results, no rollups.
    await f.stores.exec('DELETE FROM rollup_agent_hour; DELETE FROM rollup_agent_month; DELETE FROM rollup_state')
    expect(await f.stores.results.ensureRollups()).toEqual({ rebuiltRows: 2 })
    expect(await f.stores.results.ensureRollups()).toEqual({ rebuiltRows: null })
    const [m] = await f.stores.rows('rollup_agent_month')
    expect(m?.n_valid).toBe(2)
    expect((m?.rep_down as Buffer).readDoubleLE(0)).toBe(200) // one representative sample: the hour's median
  })
})

describe('decoded month cache', () => {
  it('serves repeated reads, and never a month the writer or another connection has changed since', async () => {
    const { CachedRollupReader } = await import('../../collector/reports/month-cache.js')
    const { readMonthRows } = await import('../../collector/reports/rollup-reader.js')
    const { parsePeriod } = await import('../../shared/period.js')
    const { openDatabase } = await import('../../collector/storage/db.js')
    const { join } = await import('node:path')
    const f = await seededDb()
    try {
      const reader = new CachedRollupReader(f.stores.rollups)
      const A = await f.agency('A', '23281', { category: 'organisation', connectionClass: 'fixed', isp: 'VNPT' })
      const a1 = await f.agent(A, 'a1')
      await f.ingest(a1, A, [{ at: '2026-10-05 09:00', down: 100 }, { at: '2026-09-05 09:00', down: 50 }])
      const rolling = parsePeriod('rolling12', '2026-10', 'all')
      const samples = async (): Promise<number> => (await readMonthRows(reader, { column: 'legacy_province_code', code: '62' }, rolling)).reduce((s, r) => s + r.repDown.length, 0)
      expect(await samples()).toBe(2)
      expect(reader.cache.hits).toBe(0)
      expect(await samples()).toBe(2)
      expect(reader.cache.hits).toBeGreaterThanOrEqual(12)
      // The writer on this connection invalidates the month it touches, and only that month.
      await f.ingest(a1, A, [{ at: '2026-10-06 10:00', down: 120 }])
      const misses = reader.cache.misses
      expect(await samples()).toBe(3)
      expect(reader.cache.misses - misses).toBe(1)
      // A write from another connection (another process) is noticed through data_version.
      const other = openDatabase(join(f.dir, 'collector.sqlite'))
      other.prepare("UPDATE rollup_agent_month SET rep_down = x'' WHERE month = '2026-09'").run()
      other.close()
      expect(await samples()).toBe(2)
    } finally {
      await f.close()
    }
  })
})
