/**
 * Report speed on a realistic fleet: loads N synthetic results (default 10 million) across the
 * four seed provinces, building the rollups with the same RollupWriter the result store
 * uses, then times (p50/p95 over repeated runs) the district report read from the rollups,
 * beside the same figures computed from the raw result table and a plain GROUP BY over it,
 * and the IPv6 migration report, all in this one run. Target: district report p95 < 300 ms.
 *
 *   npx tsx bench/reports/run.ts [--rows 10000000] [--runs 20] [--dir <tmp>]
 *
 * The database lives in a fresh temp directory and is deleted at the end (also on Ctrl-C).
 * 10 M rows take a few GB of disk; use --rows 200000 for a quick run.
 */
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { performance } from 'node:perf_hooks'
import { openDatabase, type Db } from '../../collector/storage/db.js'
import { loadGeography, loadTargets } from '../../collector/geo/load-geography.js'
import { placeIn, placementIndex, type PlacementIndex } from '../../collector/geo/placement.js'
import { SqliteGeoStore } from '../../collector/storage/sqlite/geo.js'
import { SqliteIpv6Store } from '../../collector/storage/sqlite/ipv6.js'
import { ipv6Report } from '../../collector/ipv6/report.js'
import { rebuildIpv6Evidence } from '../../collector/storage/sqlite/ipv6-evidence.js'
import { seedsDir } from '../../collector/paths.js'
import type { RollupInput } from '../../collector/aggregation/rollup.js'
import { RollupWriter, markRollupsCurrent } from '../../collector/storage/sqlite/rollup-writer.js'
import { districtReport } from '../../collector/reports/district-report.js'
import { parsePeriod } from '../../shared/period.js'
import { readMonthRows } from '../../collector/reports/rollup-reader.js'
import { CachedRollupReader } from '../../collector/reports/month-cache.js'
import { sqliteStores } from '../../collector/storage/sqlite/index.js'
import { buildMonthPacks } from '../../collector/reports/month-pack-job.js'
import { hourStart } from '../../collector/aggregation/time-bands.js'
import { monthStartMs, addMonths } from '../../shared/vn-time.js'
import { medianOf, percentileSorted } from '../../collector/aggregation/float-blob.js'

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '20' },
    dir: { type: 'string' },
    province: { type: 'string', default: '62' }
  }
})
const ROWS = Number(args.rows)
const RUNS = Number(args.runs)
// The raw-table references take seconds each at 10 M rows; fewer runs give their p50/p95 well enough.
const RAW_RUNS = Math.min(RUNS, 5)
if (!Number.isInteger(ROWS) || ROWS < 1000) throw new Error('--rows must be an integer >= 1000')
if (!Number.isInteger(RUNS) || RUNS < 3) throw new Error('--runs must be an integer >= 3')

const END_MONTH = '2026-10'
const START_MONTH = addMonths(END_MONTH, -11)
const T0 = monthStartMs(START_MONTH)
const T1 = monthStartMs(addMonths(END_MONTH, 1))
const DAYS = Math.round((T1 - T0) / 86_400_000)
const SPEED_SLOTS = 6 // heavy tests a day (methodology.md §13)
const ROWS_PER_AGENT_DAY = SPEED_SLOTS + 1 // plus one IPv6 suite result a day
const LEGACY_PROVINCES = ['27', '96', '08', '62']
const ISPS = ['VNPT', 'Viettel', 'FPT', 'MobiFone']

// Deterministic PRNG (mulberry32) so two runs load the same data.
let seed = 0x5eed
function rnd (): number {
  seed |= 0; seed = seed + 0x6d2b79f5 | 0
  let t = Math.imul(seed ^ seed >>> 15, 1 | seed)
  t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t
  return ((t ^ t >>> 14) >>> 0) / 4294967296
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T

const dir = mkdtempSync(join(args.dir ?? tmpdir(), 'tocdo-bench-reports-'))
let db: Db | null = null
const cleanup = (): void => {
  try { db?.close() } catch { /* already closed */ }
  rmSync(dir, { recursive: true, force: true })
}
process.on('SIGINT', () => { cleanup(); process.exit(130) })
process.on('SIGTERM', () => { cleanup(); process.exit(143) })

interface Line { agentId: string, agencyId: string, cls: string, isp: string, commune: string, province: string, district: string | null, legacyProvince: string | null, planDown: number }

function setUp (d: Db, index: PlacementIndex): Line[] {
  const agents = Math.max(4, Math.ceil(ROWS / (ROWS_PER_AGENT_DAY * DAYS)))
  const communesOf = LEGACY_PROVINCES.map((p) => d.prepare("SELECT code FROM geo_commune WHERE version = '2025-03' AND province_code = ? ORDER BY code").pluck().all(p) as string[])
  const insAgency = d.prepare(`INSERT INTO agency (id, name, category, connection_class, isp, plan_down_mbps, plan_up_mbps, commune_code, province_code,
    legacy_commune_code, legacy_district_code, legacy_province_code, placement_note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  const insAgent = d.prepare('INSERT INTO agent (id, agency_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)')
  const lines: Line[] = []
  d.transaction(() => {
    for (let i = 0; i < agents; i++) {
      // Provinces in turn, a random commune inside each: every district gets agents.
      const old = pick(communesOf[i % LEGACY_PROVINCES.length] as string[])
      let p = placeIn(index, { communeCode: old, scheme: '2025-03' })
      if (p.ambiguous?.level === 'commune') p = placeIn(index, { communeCode: old, scheme: '2025-03', newCommuneCode: p.ambiguous.candidates[0] ?? null })
      const r = rnd()
      const cls = r < 0.7 ? 'fixed' : r < 0.8 ? 'leased_line' : r < 0.95 ? '4g' : '5g'
      const category = rnd() < 0.6 ? 'organisation' : 'public_access_point'
      const planDown = cls === 'fixed' ? pick([100, 200, 300, 500, 1000]) : cls === 'leased_line' ? pick([500, 1000]) : cls === '4g' ? 60 : 300
      const agencyId = `bench-agency-${i}`
      const agentId = `bench-agent-${String(i).padStart(6, '0')}`
      const isp = pick(ISPS)
      insAgency.run(agencyId, `Cơ quan thử ${i}`, category, cls, isp, planDown, planDown, p.communeCode, p.provinceCode,
        p.legacyCommuneCode, p.legacyDistrictCode, p.legacyProvinceCode, p.note, T0)
      insAgent.run(agentId, agencyId, `agent ${i}`, Buffer.from(agentId.padEnd(32, '.')), T0)
      lines.push({ agentId, agencyId, cls, isp, commune: p.communeCode as string, province: p.provinceCode as string, district: p.legacyDistrictCode, legacyProvince: p.legacyProvinceCode, planDown })
    }
  })()
  return lines
}

async function load (d: Db, lines: readonly Line[]): Promise<number> {
  const insert = d.prepare(`INSERT INTO result (agent_id, result_id, seq, kind, schema_version, status, measured_at, measured_at_corr, received_at,
    clock_flags, family, download_mbps, upload_mbps, idle_latency_ms, flags, confidence, valid, agency_id, connection_class, isp, commune_code,
    province_code, legacy_district_code, legacy_province_code, payload_sha256, raw)
    VALUES (?, ?, NULL, ?, '1.1.0', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  const writer = new RollupWriter(d)
  const sha = Buffer.alloc(32)
  const ipv6Raw = JSON.stringify({ kind: 'ipv6', ipv6: { state: 'works', globalAddress: true, connect6: true, mainTestFamily: 6 } })
  const ipv6BrokenRaw = JSON.stringify({ kind: 'ipv6', ipv6: { state: 'broken', globalAddress: true, connect6: false, mainTestFamily: 4 } })
  let total = 0
  let batch: RollupInput[] = []
  const flush = (): void => {
    // The same call the result store's commit makes, inside the same transaction as the inserts.
    d.transaction(() => {
      for (const r of batch) {
        const x = r as RollupInput & { resultId: string, status: string, flags: string, raw: string, family: number | null }
        insert.run(x.agentId, x.resultId, x.kind, x.status, x.measuredAtCorr, x.measuredAtCorr, x.measuredAtCorr + 60_000, x.clockFlags, x.family,
          x.downloadMbps, x.uploadMbps, x.idleLatencyMs, x.flags, x.kind === 'speed' ? 'high' : null, x.valid, x.agencyId, x.connectionClass, x.isp,
          x.communeCode, x.provinceCode, x.legacyDistrictCode, x.legacyProvinceCode, sha, x.raw)
      }
      writer.apply(batch)
    })()
    total += batch.length
    batch = []
  }
  const progressEvery = Math.max(1, Math.floor(ROWS / 20))
  let next = progressEvery
  const started = performance.now()
  // Day by day across the whole fleet, as results arrive in production: a month's rollup rows are
  // created during that month, so they sit together in the table as they would on a real collector.
  const state = lines.map(() => ({ phase: rnd() * 4 * 3_600_000, quality: 0.5 + rnd() * 0.55, ipv6Works: rnd() < 0.6, seq: 0 }))
  for (let day = 0; day < DAYS; day++) {
    if (total + batch.length >= ROWS) break
    for (let li = 0; li < lines.length; li++) {
      const l = lines[li] as Line
      const { phase, quality, ipv6Works } = state[li] as { phase: number, quality: number, ipv6Works: boolean, seq: number }
      const st = state[li] as { seq: number }
      for (let s = 0; s <= SPEED_SLOTS; s++) {
        if (total + batch.length >= ROWS) break
        const ipv6 = s === SPEED_SLOTS
        const t = T0 + day * 86_400_000 + (ipv6 ? 3_600_000 * 10 : phase + s * 4 * 3_600_000) + Math.floor(rnd() * 300_000)
        const skip = !ipv6 && rnd() < 0.02
        const down = l.planDown * quality * (0.7 + rnd() * 0.5)
        const valid = !ipv6 && !skip && rnd() < 0.95 ? 1 : 0
        batch.push({
          agentId: l.agentId,
          resultId: t.toString(36).padStart(9, '0') + (st.seq++).toString(36).padStart(5, '0'),
          kind: ipv6 ? 'ipv6' : skip ? 'skip' : 'speed',
          status: skip ? 'skipped' : 'ok',
          valid,
          measuredAtCorr: t,
          clockFlags: rnd() < 0.01 ? 1 : 0,
          family: ipv6 ? 6 : 4,
          downloadMbps: ipv6 || skip ? null : Math.round(down * 100) / 100,
          uploadMbps: ipv6 || skip ? null : Math.round(down * (0.4 + rnd() * 0.6) * 100) / 100,
          idleLatencyMs: ipv6 || skip ? null : Math.round((4 + rnd() * 40) * 10) / 10,
          flags: valid === 1 || ipv6 || skip ? '' : 'cross_traffic',
          raw: ipv6 ? (ipv6Works ? ipv6Raw : ipv6BrokenRaw) : '{}',
          agencyId: l.agencyId,
          connectionClass: l.cls,
          isp: l.isp,
          communeCode: l.commune,
          provinceCode: l.province,
          legacyDistrictCode: l.district,
          legacyProvinceCode: l.legacyProvince
        } as RollupInput)
        if (batch.length >= 50_000) {
          flush()
          await yieldToSignals()
          if (total >= next) {
            next += progressEvery
            const rate = total / ((performance.now() - started) / 1000)
            process.stderr.write(`  loaded ${total.toLocaleString('en')} rows (${Math.round(rate).toLocaleString('en')} rows/s)\n`)
          }
        }
      }
    }
  }
  if (batch.length > 0) flush()
  return total
}

// Signals are handled on the event loop: yielding between runs and batches lets Ctrl-C clean up.
const yieldToSignals = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

async function time (fn: () => unknown, runs = RUNS, before?: () => void): Promise<number[]> {
  before?.()
  await fn() // warm the page cache and the statement cache
  const out: number[] = []
  for (let i = 0; i < runs; i++) {
    await yieldToSignals()
    before?.() // untimed set-up of each run
    const t = performance.now()
    await fn()
    out.push(performance.now() - t)
  }
  return out.sort((a, b) => a - b)
}

/** The district figures computed from the raw table: the path the rollups replace. */
function districtFromRaw (d: Db, province: string, from: number, to: number): Map<string, { mean: number | null, median: number | null, n: number }> {
  const rows = d.prepare(`SELECT agent_id AS a, legacy_district_code AS dc, measured_at_corr AS t, download_mbps AS down FROM result
    WHERE legacy_province_code = ? AND measured_at_corr >= ? AND measured_at_corr < ? AND kind = 'speed' AND valid = 1`).raw(true).all(province, from, to) as Array<[string, string, number, number]>
  const hours = new Map<string, { dc: string, v: number[] }>()
  for (const [a, dc, t, down] of rows) {
    const k = `${a}|${hourStart(t)}`
    const h = hours.get(k)
    if (h === undefined) hours.set(k, { dc, v: [down] })
    else h.v.push(down)
  }
  const byDistrict = new Map<string, number[]>()
  for (const h of hours.values()) {
    const l = byDistrict.get(h.dc) ?? []
    l.push(medianOf(h.v) as number)
    byDistrict.set(h.dc, l)
  }
  return new Map([...byDistrict].map(([dc, v]) => {
    const s = Float64Array.from(v).sort()
    return [dc, { mean: v.reduce((x, y) => x + y, 0) / v.length, median: percentileSorted(s, 50), n: v.length }]
  }))
}

const fmt = (xs: number[]): string => {
  const p = (q: number): number => percentileSorted(Float64Array.from(xs), q) as number
  return `p50 ${p(50).toFixed(1).padStart(8)} ms   p95 ${p(95).toFixed(1).padStart(8)} ms`
}

async function main (): Promise<void> {
  console.log(`tocdo report bench: ${ROWS.toLocaleString('en')} rows, ${RUNS} timed runs each, database in ${dir}`)
  db = openDatabase(join(dir, 'collector.sqlite'))
  // Loading only: the bench's own data needs no power-loss durability.
  db.pragma('synchronous = OFF')
  const geo = new SqliteGeoStore(db)
  await loadGeography(geo, seedsDir())
  await loadTargets(geo, seedsDir())
  markRollupsCurrent(db)
  const lines = setUp(db, placementIndex(await geo.placementRows(null)))
  const t0 = performance.now()
  const loaded = await load(db, lines)
  const loadS = (performance.now() - t0) / 1000
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.exec('ANALYZE')
  const bytes = readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0)
  const monthRows = db.prepare('SELECT count(*) FROM rollup_agent_month').pluck().get() as number
  const hourRows = db.prepare('SELECT count(*) FROM rollup_agent_hour').pluck().get() as number
  console.log(`loaded ${loaded.toLocaleString('en')} results for ${lines.length.toLocaleString('en')} agents over ${START_MONTH}..${END_MONTH} in ${loadS.toFixed(0)} s ` +
    `(${Math.round(loaded / loadS).toLocaleString('en')} rows/s incl. rollups); rollups: ${monthRows.toLocaleString('en')} agent-month rows, ` +
    `${hourRows.toLocaleString('en')} agent-hour rows; database ${(bytes / 1e9).toFixed(2)} GB`)

  const P = args.province
  const agentsInP = lines.filter((l) => l.legacyProvince === P).length
  const now = new Date(monthStartMs(addMonths(END_MONTH, 1)) + 86_400_000)
  const month = parsePeriod(END_MONTH, undefined, 'all')
  const rolling = parsePeriod('rolling12', END_MONTH, 'all')
  const mFrom = monthStartMs(END_MONTH)
  const results: Array<[string, number[]]> = []
  const stores = sqliteStores(db)
  const reader = stores.rollups
  results.push([`district report, rollups, ${END_MONTH}`, await time(async () => await districtReport(stores, P, now, { period: month }))])
  // No month packs (before the pack job's first run after a rebuild): reports read the rows.
  const dropPacks = (): void => { (db as Db).exec('DELETE FROM rollup_month_pack') }
  dropPacks()
  results.push(['district report, rolling 12, no month packs (rows)', await time(async () => await districtReport(stores, P, now, { period: rolling }), RAW_RUNS)])
  results.push(['  of which reading the rows', await time(async () => await readMonthRows(reader, { column: 'legacy_province_code', code: P }, rolling, now.getTime()), RAW_RUNS)])
  results.push(['month-pack job, every province and closed month (not a report)', await time(async () => await buildMonthPacks(reader, now.getTime()), RAW_RUNS, dropPacks)])
  results.push(['district report, rollups, rolling 12 months (cold: packs)', await time(async () => await districtReport(stores, P, now, { period: rolling }))])
  results.push(['  of which reading the month packs', await time(async () => await readMonthRows(reader, { column: 'legacy_province_code', code: P }, rolling, now.getTime()))])
  const cached = { ...stores, rollups: new CachedRollupReader(reader) }
  results.push(['district report, rolling 12, month cache warm', await time(async () => await districtReport(cached, P, now, { period: rolling }))])
  results.push([`same figures from the raw table, ${END_MONTH}`, await time(() => districtFromRaw(db as Db, P, mFrom, T1), RAW_RUNS)])
  results.push(['same figures from the raw table, rolling 12', await time(() => districtFromRaw(db as Db, P, T0, T1), RAW_RUNS)])
  const groupBy = (from: number): unknown => (db as Db).prepare(`SELECT legacy_district_code, count(*), sum(valid), avg(CASE WHEN valid = 1 THEN download_mbps END)
    FROM result WHERE legacy_province_code = ? AND measured_at_corr >= ? AND measured_at_corr < ? AND kind = 'speed' GROUP BY 1`).all(P, from, T1)
  results.push([`plain GROUP BY (count, mean) over raw, ${END_MONTH}`, await time(() => groupBy(mFrom), RAW_RUNS)])
  results.push(['plain GROUP BY (count, mean) over raw, rolling 12', await time(() => groupBy(T0), RAW_RUNS)])

  // Cross-check: the rollup path and the raw path agree on the monthly means.
  const fromRollup = await districtReport(stores, P, now, { period: month })
  const fromRaw = districtFromRaw(db, P, mFrom, T1)
  let worst = 0
  for (const dRow of fromRollup.districts) {
    const r = fromRaw.get(dRow.districtCode)
    if (r === undefined || dRow.downloadMeanMbps === null || r.mean === null) continue
    worst = Math.max(worst, Math.abs(dRow.downloadMeanMbps - r.mean), Math.abs((dRow.downloadMedianMbps ?? 0) - (r.median ?? 0)))
  }

  let ipv6Note = ''
  try {
    // The collector builds the IPv6 evidence at start; this database was seeded without it.
    rebuildIpv6Evidence(db)
    const v6 = { geo: new SqliteGeoStore(db), ipv6: new SqliteIpv6Store(db) }
    results.push([`IPv6 migration report (legacy districts), ${END_MONTH}`, await time(async () => await ipv6Report(v6, { level: 'legacy_district', province: P, period: END_MONTH, now: now.getTime() }))])
  } catch (err) {
    ipv6Note = `IPv6 report not timed: ${(err as Error).message}`
  }

  console.log(`\nprovince ${P} (2025-03): ${agentsInP.toLocaleString('en')} agents; target: district report p95 < 300 ms`)
  for (const [name, xs] of results) console.log(`  ${name.padEnd(58)} ${fmt(xs)}`)
  if (ipv6Note !== '') console.log(`  ${ipv6Note}`)
  console.log(`\nrollup vs raw, ${END_MONTH}: largest difference in a district mean/median ${worst.toExponential(2)} Mbps (rounding to 0.001 only)`)
}

main().then(cleanup, (err: unknown) => { cleanup(); console.error(err); process.exitCode = 1 })
