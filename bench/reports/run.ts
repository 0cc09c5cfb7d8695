/**
 * Report speed on a realistic fleet, on each store side by side in one run: loads N synthetic
 * results (default 10 million) across the four seed provinces into SQLite and/or a private
 * PostgreSQL cluster, through the result store's own commit (results, rollups and IPv6 evidence
 * in one transaction per group), then times (p50/p95 over repeated runs) the district report
 * read through the store's RollupReader, beside the same figures computed from that store's raw
 * result table and a plain GROUP BY over it, and the IPv6 migration report. Target: report
 * p95 < 300 ms at 10 M results, each beside the plain GROUP BY of the same store.
 *
 *   npm run bench:reports -- [--store sqlite|postgres|both] [--rows 10000000] [--runs 20] [--dir <tmp>] [--profile <dir>]
 *
 * `--profile <dir>` also writes a CPU profile per store of the cold and of the warm rolling-12
 * report and of the IPv6 report (`<store>-cold.cpuprofile`, `-warm`, `-ipv6`, `--runs` reports each), after the
 * timings so it does not slow them; open them in Chrome's DevTools or any .cpuprofile viewer.
 * `--wait-quiet <load>` loads at once but starts each store's timings only when the 1-minute
 * load average has been below <load> at three checks 10 s apart (waiting at most an hour): a 10 M load can run
 * beside other work and its timings still be taken on a quiet machine.
 *
 * Everything but loading's fleet set-up and the raw-table references goes through the `Stores`
 * interface, so both stores run the same code. The SQLite database lives in a fresh temp
 * directory; PostgreSQL runs as a throwaway cluster of its own (initdb in a temp directory, its
 * own socket directory and loopback port: test/fixtures/postgres-cluster.ts), never another
 * server. Both are removed at the end, also on Ctrl-C. 10 M rows take a few GB of disk per
 * store; use --rows 200000 for a quick run.
 */
import Database from 'better-sqlite3'
import { mkdirSync, mkdtempSync, rmSync, statSync, readdirSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { performance } from 'node:perf_hooks'
import { Session } from 'node:inspector/promises'
import { openStores } from '../../collector/storage/index.js'
import { createPool, type Pool } from '../../collector/storage/postgres/pool.js'
import type { Agency, CommitJob, ResultRow, Stores } from '../../collector/storage/stores.js'
import type { ResultRecord } from '../../shared/schemas/result.js'
import { loadGeography, loadTargets } from '../../collector/geo/load-geography.js'
import { placeIn, placementIndex, type PlacementIndex } from '../../collector/geo/placement.js'
import { ipv6Report } from '../../collector/ipv6/report.js'
import { seedsDir } from '../../collector/paths.js'
import { districtReport } from '../../collector/reports/district-report.js'
import { parsePeriod } from '../../shared/period.js'
import { readMonthRows } from '../../collector/reports/rollup-reader.js'
import { CachedRollupReader } from '../../collector/reports/month-cache.js'
import { buildMonthPacks } from '../../collector/reports/month-pack-job.js'
import { hourStart } from '../../collector/aggregation/time-bands.js'
import { monthStartMs, addMonths } from '../../shared/vn-time.js'
import { medianOf, percentileSorted } from '../../collector/aggregation/float-blob.js'
import { databaseUrl, startPostgresCluster } from '../../test/fixtures/postgres-cluster.js'

const STORES = ['sqlite', 'postgres'] as const
type StoreName = typeof STORES[number]

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'both' },
    rows: { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '20' },
    dir: { type: 'string' },
    profile: { type: 'string' },
    'wait-quiet': { type: 'string' },
    province: { type: 'string', default: '62' }
  }
})
const ROWS = Number(args.rows)
const RUNS = Number(args.runs)
// The raw-table references take seconds each at 10 M rows; fewer runs give their p50/p95 well enough.
const RAW_RUNS = Math.min(RUNS, 5)
if (!Number.isInteger(ROWS) || ROWS < 1000) throw new Error('--rows must be an integer >= 1000')
if (!Number.isInteger(RUNS) || RUNS < 3) throw new Error('--runs must be an integer >= 3')
// Checked with the other options, not after a load of many minutes.
const QUIET_LOAD = args['wait-quiet'] === undefined ? null : Number(args['wait-quiet'])
if (QUIET_LOAD !== null && !(QUIET_LOAD > 0)) throw new Error('--wait-quiet must be a load average > 0, such as 1.5')
if (args.store !== 'both' && !(STORES as readonly string[]).includes(args.store)) throw new Error('--store must be sqlite, postgres or both')
const CHOSEN: readonly StoreName[] = args.store === 'both' ? STORES : [args.store as StoreName]
const TARGET_MS = 300

/**
 * The bench's PostgreSQL server settings beyond the test cluster's (fsync on, as in
 * production): a modest server's shared_buffers (the test cluster's 64 MB is for many small
 * databases), and a max_wal_size that keeps a 10 M-row load from checkpointing every few
 * seconds. Printed with the figures.
 */
const POSTGRES_SETTINGS = { shared_buffers: '512MB', max_wal_size: '4GB' }

const END_MONTH = '2026-10'
const START_MONTH = addMonths(END_MONTH, -11)
const T0 = monthStartMs(START_MONTH)
const T1 = monthStartMs(addMonths(END_MONTH, 1))
const DAYS = Math.round((T1 - T0) / 86_400_000)
const SPEED_SLOTS = 6 // heavy tests a day (methodology.md §13)
const ROWS_PER_AGENT_DAY = SPEED_SLOTS + 1 // plus one IPv6 suite result a day
const LEGACY_PROVINCES = ['27', '96', '08', '62']
const ISPS = ['VNPT', 'Viettel', 'FPT', 'MobiFone']
const GROUP_ROWS = 50_000

// Deterministic PRNG (mulberry32), restarted for each store so every store loads the same data.
let seed = 0x5eed
function rnd (): number {
  seed |= 0; seed = seed + 0x6d2b79f5 | 0
  let t = Math.imul(seed ^ seed >>> 15, 1 | seed)
  t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t
  return ((t ^ t >>> 14) >>> 0) / 4294967296
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T

// ── What differs between the stores: where the database lives, and the bench's own SQL ──

/**
 * A store opened for the bench as the collector opens it (`openStores`), with a connection of
 * the bench's own for what no store method does: the fleet's fixed agent ids, the raw-table
 * references, the table counts and dropping the month packs. SQL is written once with `?`
 * placeholders; both dialects read it alike.
 */
interface BenchStore {
  name: StoreName
  stores: Stores
  /** Rows as arrays. */
  all: (sql: string, params?: readonly unknown[]) => Promise<unknown[][]>
  run: (sql: string, params?: readonly unknown[]) => Promise<void>
  /** After loading: statistics (and on PostgreSQL the visibility map autovacuum would build), the WAL folded in. */
  settle: () => Promise<void>
  bytes: () => Promise<number>
  /** Where the data lives and how the server is set up, for the report. */
  describe: string
  close: () => Promise<void>
}

/** `fn` run at most once: Ctrl-C's cleanup and the run's own end may both close a store. */
function once (fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined
  return async () => { await (done ??= fn()) }
}

async function openSqlite (): Promise<BenchStore> {
  const dir = mkdtempSync(join(args.dir ?? tmpdir(), 'tocdo-bench-reports-'))
  const file = join(dir, 'collector.sqlite')
  let stores: Stores | undefined
  let own: Database.Database | undefined
  const close = once(async () => {
    try { own?.close() } catch { /* already closed */ }
    try { await stores?.close() } catch { /* already closed */ }
    rmSync(dir, { recursive: true, force: true })
  })
  try {
    stores = await openStores({ file })
    own = new Database(file)
  } catch (err) {
    await close()
    throw err
  }
  const db = own
  return {
    name: 'sqlite',
    stores,
    all: async (sql, params = []) => db.prepare(sql).raw(true).all(...params) as unknown[][],
    run: async (sql, params = []) => { db.prepare(sql).run(...params) },
    // The timings must not read through a WAL the load left behind: the checkpoint has to finish.
    settle: async () => {
      for (let i = 0; ; i++) {
        const [r] = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>
        if (r?.busy === 0) break
        if (i === 50) throw new Error('the WAL could not be checkpointed after loading: something still reads it')
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      db.exec('ANALYZE')
    },
    bytes: async () => readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0),
    describe: `SQLite file in ${dir}`,
    close
  }
}

async function openPostgres (): Promise<BenchStore> {
  const cluster = await startPostgresCluster({ settings: POSTGRES_SETTINGS })
  const opened: { stores?: Stores, own?: Pool } = {}
  const close = once(async () => {
    try { await opened.own?.end() } catch { /* already ended */ }
    try { await opened.stores?.close() } catch { /* already closed */ }
    await cluster.stop()
  })
  // The cluster is stopped and removed on Ctrl-C even while the stores open.
  cleanups.push(close)
  const admin = createPool(cluster.url, { max: 1 })
  try {
    await admin.query('CREATE DATABASE tocdo_bench')
  } finally {
    await admin.end()
  }
  const url = databaseUrl(cluster.url, 'tocdo_bench')
  const stores = opened.stores = await openStores({ databaseUrl: url, file: '' })
  const pool = opened.own = createPool(url, { max: 2, applicationName: 'tocdo-bench' })
  let n = 0
  const dollars = (sql: string): string => { n = 0; return sql.replace(/\?/g, () => `$${++n}`) }
  return {
    name: 'postgres',
    stores,
    all: async (sql, params = []) => (await pool.query<unknown[]>({ text: dollars(sql), values: [...params], rowMode: 'array' })).rows,
    run: async (sql, params = []) => { await pool.query(dollars(sql), [...params]) },
    settle: async () => { await pool.query('VACUUM ANALYZE'); await pool.query('CHECKPOINT') },
    bytes: async () => Number((await pool.query<{ b: number }>('SELECT pg_database_size(current_database()) AS b')).rows[0]?.b),
    describe: `PostgreSQL ${cluster.version}, private cluster in ${cluster.dir} (port ${cluster.port}; ${Object.entries(POSTGRES_SETTINGS).map(([k, v]) => `${k}=${v}`).join(', ')}, fsync on)`,
    close
  }
}

// ── Loading: the same fleet and results on every store ──

interface Line { agentId: string, agencyId: string, cls: string, isp: string, commune: string, province: string, district: string | null, legacyProvince: string | null, planDown: number }

async function setUp (b: BenchStore, index: PlacementIndex): Promise<Line[]> {
  const agents = Math.max(4, Math.ceil(ROWS / (ROWS_PER_AGENT_DAY * DAYS)))
  const communesOf = await Promise.all(LEGACY_PROVINCES.map(async (p) => (await b.stores.geo.communes('2025-03', p)).map((c) => c.code)))
  const lines: Line[] = []
  for (let i = 0; i < agents; i++) {
    // Provinces in turn, a random commune inside each: every district gets agents.
    const old = pick(communesOf[i % LEGACY_PROVINCES.length] as string[])
    let p = placeIn(index, { communeCode: old, scheme: '2025-03' })
    if (p.ambiguous?.level === 'commune') p = placeIn(index, { communeCode: old, scheme: '2025-03', newCommuneCode: p.ambiguous.candidates[0] ?? null })
    const r = rnd()
    const cls: Agency['connectionClass'] = r < 0.7 ? 'fixed' : r < 0.8 ? 'leased_line' : r < 0.95 ? '4g' : '5g'
    const category: Agency['category'] = rnd() < 0.6 ? 'organisation' : 'public_access_point'
    const planDown = cls === 'fixed' ? pick([100, 200, 300, 500, 1000]) : cls === 'leased_line' ? pick([500, 1000]) : cls === '4g' ? 60 : 300
    const agencyId = `bench-agency-${i}`
    const agentId = `bench-agent-${String(i).padStart(6, '0')}`
    const isp = pick(ISPS)
    await b.stores.fleet.createAgency({
      id: agencyId,
      name: `Cơ quan thử ${i}`,
      category,
      connectionClass: cls,
      isp,
      planDownMbps: planDown,
      planUpMbps: planDown,
      communeCode: p.communeCode as string,
      provinceCode: p.provinceCode as string,
      legacyCommuneCode: p.legacyCommuneCode,
      legacyDistrictCode: p.legacyDistrictCode,
      legacyProvinceCode: p.legacyProvinceCode,
      placementNote: p.note
    }, T0)
    // Fixed agent ids (the store's createAgent makes random ones), so both stores hold the same rows.
    await b.run('INSERT INTO agent (id, agency_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)',
      [agentId, agencyId, `agent ${i}`, Buffer.from(agentId.padEnd(32, '.')), T0])
    lines.push({ agentId, agencyId, cls, isp, commune: p.communeCode as string, province: p.provinceCode as string, district: p.legacyDistrictCode, legacyProvince: p.legacyProvinceCode, planDown })
  }
  return lines
}

/** The results in groups of GROUP_ROWS, day by day across the whole fleet, as results arrive in production. */
function * resultGroups (lines: readonly Line[]): Generator<ResultRow[]> {
  const sha = Buffer.alloc(32)
  const ipv6Works = { kind: 'ipv6', ipv6: { state: 'works', globalAddress: true, connect6: true, mainTestFamily: 6 } }
  const ipv6Broken = { kind: 'ipv6', ipv6: { state: 'broken', globalAddress: true, connect6: false, mainTestFamily: 4 } }
  let made = 0
  let group: ResultRow[] = []
  // A month's rollup rows are created during that month, so they sit together in the table as they would on a real collector.
  const state = lines.map(() => ({ phase: Math.floor(rnd() * 4 * 3_600_000), quality: 0.5 + rnd() * 0.55, ipv6Works: rnd() < 0.6, seq: 0 }))
  for (let day = 0; day < DAYS && made < ROWS; day++) {
    for (let li = 0; li < lines.length && made < ROWS; li++) {
      const l = lines[li] as Line
      const st = state[li] as (typeof state)[number]
      for (let s = 0; s <= SPEED_SLOTS && made < ROWS; s++) {
        const ipv6 = s === SPEED_SLOTS
        const t = T0 + day * 86_400_000 + (ipv6 ? 3_600_000 * 10 : st.phase + s * 4 * 3_600_000) + Math.floor(rnd() * 300_000)
        const skip = !ipv6 && rnd() < 0.02
        const down = l.planDown * st.quality * (0.7 + rnd() * 0.5)
        const valid = !ipv6 && !skip && rnd() < 0.95 ? 1 : 0
        const record = ipv6 ? (st.ipv6Works ? ipv6Works : ipv6Broken) : {}
        group.push({
          agentId: l.agentId,
          resultId: t.toString(36).padStart(9, '0') + (st.seq++).toString(36).padStart(5, '0'),
          seq: null,
          kind: ipv6 ? 'ipv6' : skip ? 'skip' : 'speed',
          schemaVersion: '1.1.0',
          status: skip ? 'skipped' : 'ok',
          measuredAt: t,
          measuredAtCorr: t,
          receivedAt: t + 60_000,
          clockFlags: rnd() < 0.01 ? 1 : 0,
          family: ipv6 ? 6 : 4,
          downloadMbps: ipv6 || skip ? null : Math.round(down * 100) / 100,
          uploadMbps: ipv6 || skip ? null : Math.round(down * (0.4 + rnd() * 0.6) * 100) / 100,
          idleLatencyMs: ipv6 || skip ? null : Math.round((4 + rnd() * 40) * 10) / 10,
          loadedDownMs: null,
          loadedUpMs: null,
          flags: valid === 1 || ipv6 || skip ? '' : 'cross_traffic',
          confidence: ipv6 || skip ? null : 'high',
          valid,
          agencyId: l.agencyId,
          connectionClass: l.cls,
          isp: l.isp,
          communeCode: l.commune,
          provinceCode: l.province,
          legacyDistrictCode: l.district,
          legacyProvinceCode: l.legacyProvince,
          payloadSha256: sha,
          raw: JSON.stringify(record),
          // Projections read only the parts of the record they need (the IPv6 block).
          record: record as unknown as ResultRecord
        })
        made++
        if (group.length >= GROUP_ROWS) { yield group; group = [] }
      }
    }
  }
  if (group.length > 0) yield group
}

/** One commit group per GROUP_ROWS results, one job per agent in it: the result store's own ingest transaction. */
async function load (b: BenchStore, lines: readonly Line[]): Promise<number> {
  const progressEvery = Math.max(1, Math.floor(ROWS / 20))
  let next = progressEvery
  let total = 0
  const started = performance.now()
  for (const group of resultGroups(lines)) {
    const jobs = new Map<string, CommitJob>()
    for (const row of group) {
      let job = jobs.get(row.agentId)
      if (job === undefined) jobs.set(row.agentId, job = { batch: { agentId: row.agentId, items: [], rows: [], rejected: 0 }, seen: null })
      job.batch.rows.push({ index: job.batch.items.length, row })
      job.batch.items.push({ id: row.resultId, status: 'rejected' }) // filled in by the commit
    }
    const { outcomes } = await b.stores.results.commitGroup([...jobs.values()])
    const accepted = outcomes.reduce((s, o) => s + o.accepted, 0)
    if (accepted !== group.length) throw new Error(`${b.name}: ${group.length - accepted} of ${group.length} results not accepted`)
    total += accepted
    if (total >= next) {
      next += progressEvery
      const rate = total / ((performance.now() - started) / 1000)
      process.stderr.write(`  ${b.name}: loaded ${total.toLocaleString('en')} rows (${Math.round(rate).toLocaleString('en')} rows/s)\n`)
    }
  }
  return total
}

// ── Timing, the same on every store ──

// Signals are handled on the event loop: yielding between runs lets Ctrl-C clean up.
const yieldToSignals = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

async function time (fn: () => unknown, runs = RUNS, before?: () => Promise<void>): Promise<number[]> {
  await before?.()
  await fn() // warm the page cache and the statement cache
  const out: number[] = []
  for (let i = 0; i < runs; i++) {
    await yieldToSignals()
    await before?.() // untimed set-up of each run
    const t = performance.now()
    await fn()
    out.push(performance.now() - t)
  }
  return out.sort((a, b) => a - b)
}

/** `--runs` calls of `fn` under the CPU profiler, written to `<--profile>/<name>.cpuprofile`. */
async function profile (name: string, fn: () => Promise<unknown>): Promise<void> {
  const dir = args.profile as string
  mkdirSync(dir, { recursive: true })
  const session = new Session()
  session.connect()
  try {
    await session.post('Profiler.enable')
    await session.post('Profiler.start')
    for (let i = 0; i < RUNS; i++) await fn()
    const { profile: p } = await session.post('Profiler.stop')
    const file = join(dir, `${name}.cpuprofile`)
    writeFileSync(file, JSON.stringify(p))
    process.stderr.write(`  CPU profile of ${RUNS} runs: ${file}\n`)
  } finally {
    session.disconnect()
  }
}

type DistrictFigures = Map<string, { mean: number | null, median: number | null, n: number }>

/** The district figures computed from the raw table: the path the rollups replace. */
async function districtFromRaw (b: BenchStore, province: string, from: number, to: number): Promise<DistrictFigures> {
  const rows = await b.all(`SELECT agent_id AS a, legacy_district_code AS dc, measured_at_corr AS t, download_mbps AS down FROM result
    WHERE legacy_province_code = ? AND measured_at_corr >= ? AND measured_at_corr < ? AND kind = 'speed' AND valid = 1`, [province, from, to]) as Array<[string, string, number, number]>
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

const percentile = (xs: number[], q: number): number => percentileSorted(Float64Array.from(xs), q) as number
const ms = (x: number): string => `${x.toFixed(1)} ms`
const load1 = (): string => loadavg().map((x) => x.toFixed(2)).join(' ')

/** With `--wait-quiet <load>`: resolves once the 1-minute load average has stayed below it for three checks (at most an hour). */
async function waitQuiet (): Promise<void> {
  if (QUIET_LOAD === null) return
  // Below the limit at three checks in a row: a moment between two jobs of other work is not quiet.
  const until = Date.now() + 3_600_000
  let quiet = 0
  while (Date.now() < until) {
    quiet = (loadavg()[0] ?? 0) < QUIET_LOAD ? quiet + 1 : 0
    if (quiet === 3) break
    await yieldToSignals()
    await new Promise((resolve) => setTimeout(resolve, 10_000))
  }
  process.stderr.write(`  quiet enough to time (load average ${load1()}, limit ${QUIET_LOAD})\n`)
}

/** A timed line: its name, its timings, and for a report held to the target, the key of the plain GROUP BY over the same period. */
interface Timed { key: string, name: string, xs: number[], reference: string | null }

interface StoreRun {
  name: StoreName
  describe: string
  loadLine: string
  lines: Timed[]
  loadBefore: string
  loadAfter: string
  agentsInP: number
  rawCheck: string
  /** The reports as JSON, to compare between stores. */
  reports: Record<string, string>
}

async function benchStore (b: BenchStore): Promise<StoreRun> {
  console.log(`\n== ${b.name}: ${b.describe}`)
  const { stores } = b
  await loadGeography(stores.geo, seedsDir())
  await loadTargets(stores.geo, seedsDir())
  // The collector's start-up jobs on an empty store: both mark their definitions current.
  await stores.results.ensureRollups()
  await stores.results.ensureIpv6Evidence()
  seed = 0x5eed
  const lines = await setUp(b, placementIndex(await stores.geo.placementRows(null)))
  const t0 = performance.now()
  const loaded = await load(b, lines)
  const loadS = (performance.now() - t0) / 1000
  await b.settle()
  const count = async (table: string): Promise<number> => Number((await b.all(`SELECT count(*) FROM ${table}`))[0]?.[0])
  const loadLine = `loaded ${loaded.toLocaleString('en')} results for ${lines.length.toLocaleString('en')} agents over ${START_MONTH}..${END_MONTH} in ${loadS.toFixed(0)} s ` +
    `(${Math.round(loaded / loadS).toLocaleString('en')} rows/s through commitGroup, groups of ${GROUP_ROWS.toLocaleString('en')}); rollups: ` +
    `${(await count('rollup_agent_month')).toLocaleString('en')} agent-month rows, ${(await count('rollup_agent_hour')).toLocaleString('en')} agent-hour rows; ` +
    `database ${((await b.bytes()) / 1e9).toFixed(2)} GB`
  console.log(loadLine)

  const P = args.province
  const now = new Date(monthStartMs(addMonths(END_MONTH, 1)) + 86_400_000)
  const month = parsePeriod(END_MONTH, undefined, 'all')
  const rolling = parsePeriod('rolling12', END_MONTH, 'all')
  const mFrom = monthStartMs(END_MONTH)
  const reader = stores.rollups
  const province = { column: 'legacy_province_code' as const, code: P }
  const dropPacks = async (): Promise<void> => { await b.run('DELETE FROM rollup_month_pack') }
  const groupBy = async (from: number): Promise<unknown> => await b.all(`SELECT legacy_district_code, count(*), sum(valid), avg(CASE WHEN valid = 1 THEN download_mbps END)
    FROM result WHERE legacy_province_code = ? AND measured_at_corr >= ? AND measured_at_corr < ? AND kind = 'speed' GROUP BY 1`, [P, from, T1])
  const cached = { ...stores, rollups: new CachedRollupReader(reader) }
  const out: Timed[] = []
  const add = async (key: string, name: string, reference: string | null, fn: () => unknown, runs = RUNS, before?: () => Promise<void>): Promise<void> => {
    out.push({ key, name, reference, xs: await time(fn, runs, before) })
    process.stderr.write(`  ${b.name}: ${name}: p95 ${ms(percentile(out.at(-1)?.xs ?? [], 95))}\n`)
  }
  await waitQuiet()
  const loadBefore = load1()
  await add('month', `district report, rollups, ${END_MONTH}`, 'groupMonth', async () => await districtReport(stores, P, now, { period: month }))
  // No month packs (before the pack job's first run after a rebuild): reports read the rows.
  await dropPacks()
  await add('first', 'district report, rolling 12, no month packs (rows)', null, async () => await districtReport(stores, P, now, { period: rolling }), RAW_RUNS)
  await add('firstRead', '  of which reading the rows', null, async () => await readMonthRows(reader, province, rolling, now.getTime()), RAW_RUNS)
  await add('packJob', 'month-pack job, every province and closed month (not a report)', null, async () => await buildMonthPacks(reader, now.getTime()), RAW_RUNS, dropPacks)
  await add('cold', 'district report, rollups, rolling 12 months (cold: packs)', 'groupRolling', async () => await districtReport(stores, P, now, { period: rolling }))
  await add('coldRead', '  of which reading the month packs', null, async () => await readMonthRows(reader, province, rolling, now.getTime()))
  await add('warm', 'district report, rolling 12, month cache warm', 'groupRolling', async () => await districtReport(cached, P, now, { period: rolling }))
  await add('rawMonth', `same figures from the raw table, ${END_MONTH}`, null, async () => await districtFromRaw(b, P, mFrom, T1), RAW_RUNS)
  await add('rawRolling', 'same figures from the raw table, rolling 12', null, async () => await districtFromRaw(b, P, T0, T1), RAW_RUNS)
  await add('groupMonth', `plain GROUP BY (count, mean) over raw, ${END_MONTH}`, null, async () => await groupBy(mFrom), RAW_RUNS)
  await add('groupRolling', 'plain GROUP BY (count, mean) over raw, rolling 12', null, async () => await groupBy(T0), RAW_RUNS)
  await add('ipv6', `IPv6 migration report (legacy districts), ${END_MONTH}`, 'groupMonth',
    async () => await ipv6Report(stores, { level: 'legacy_district', province: P, period: END_MONTH, now: now.getTime() }))
  const loadAfter = load1()
  if (args.profile !== undefined) {
    await profile(`${b.name}-cold`, async () => await districtReport(stores, P, now, { period: rolling }))
    await profile(`${b.name}-warm`, async () => await districtReport(cached, P, now, { period: rolling }))
    await profile(`${b.name}-ipv6`, async () => await ipv6Report(stores, { level: 'legacy_district', province: P, period: END_MONTH, now: now.getTime() }))
  }

  // Cross-check: the rollup path and the raw path agree on the monthly means.
  const monthReport = await districtReport(stores, P, now, { period: month })
  const fromRaw = await districtFromRaw(b, P, mFrom, T1)
  let worst = 0
  for (const dRow of monthReport.districts) {
    const r = fromRaw.get(dRow.districtCode)
    if (r === undefined || dRow.downloadMeanMbps === null || r.mean === null) continue
    worst = Math.max(worst, Math.abs(dRow.downloadMeanMbps - r.mean), Math.abs((dRow.downloadMedianMbps ?? 0) - (r.median ?? 0)))
  }
  const reports = {
    [`district report ${END_MONTH}`]: JSON.stringify(monthReport),
    'district report rolling 12': JSON.stringify(await districtReport(stores, P, now, { period: rolling })),
    [`IPv6 report ${END_MONTH}`]: JSON.stringify(await ipv6Report(stores, { level: 'legacy_district', province: P, period: END_MONTH, now: now.getTime() }))
  }
  return {
    name: b.name,
    describe: b.describe,
    loadLine,
    lines: out,
    loadBefore,
    loadAfter,
    agentsInP: lines.filter((l) => l.legacyProvince === P).length,
    rawCheck: `rollup vs raw, ${END_MONTH}: largest difference in a district mean/median ${worst.toExponential(2)} Mbps (rounding to 0.001 only)`,
    reports
  }
}

/** Where two JSON values first differ ('$.path: a | b'), or null when they are equal. */
function firstDifference (a: unknown, b: unknown, path: string): string | null {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
    return a === b ? null : `$${path}: ${JSON.stringify(a)} | ${JSON.stringify(b)}`
  }
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])]
  for (const k of keys) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`)
    if (d !== null) return d
  }
  return null
}

// ── Cleanup on every exit path ──

const cleanups: Array<() => Promise<void>> = []
let cleaning: Promise<void> | undefined
async function cleanup (): Promise<void> {
  cleaning ??= (async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try { await c() } catch (err) { console.error(`cleanup: ${(err as Error).message}`) }
    }
  })()
  await cleaning
}
const onSignal = (code: number) => () => { void cleanup().finally(() => process.exit(code)) }
process.on('SIGINT', onSignal(130))
process.on('SIGTERM', onSignal(143))

async function main (): Promise<void> {
  console.log(`tocdo report bench: ${ROWS.toLocaleString('en')} rows per store, stores: ${CHOSEN.join(', ')}, ${RUNS} timed runs each ` +
    `(raw references and first views ${RAW_RUNS}); load average (1/5/15 min) at start ${load1()}`)
  const runs: StoreRun[] = []
  for (const name of CHOSEN) {
    const b = name === 'sqlite' ? await openSqlite() : await openPostgres()
    if (name === 'sqlite') cleanups.push(b.close)
    try {
      runs.push(await benchStore(b))
    } finally {
      await b.close()
      cleanups.splice(cleanups.indexOf(b.close), 1)
    }
  }

  const P = args.province
  console.log(`\nprovince ${P} (2025-03): ${(runs[0]?.agentsInP ?? 0).toLocaleString('en')} agents; target: report p95 < ${TARGET_MS} ms, ` +
    'each beside the plain GROUP BY of the same store')
  for (const r of runs) console.log(`  ${r.name}: load average (1/5/15 min) ${r.loadBefore} before its timings, ${r.loadAfter} after`)
  const head = runs.map((r) => `${r.name.padStart(10)} p50      p95`).join('   ')
  console.log(`\n  ${''.padEnd(64)} ${head}`)
  for (const [i, line] of (runs[0]?.lines ?? []).entries()) {
    const cells = runs.map((r) => {
      const xs = r.lines[i]?.xs ?? []
      return `${percentile(xs, 50).toFixed(1).padStart(10)} ${percentile(xs, 95).toFixed(1).padStart(8)} ms`
    })
    console.log(`  ${line.name.padEnd(64)} ${cells.join('   ')}`)
  }
  console.log('')
  for (const r of runs) {
    for (const l of r.lines) {
      if (l.reference === null) continue
      const ref = r.lines.find((x) => x.key === l.reference) as Timed
      const p95 = percentile(l.xs, 95)
      console.log(`  ${r.name.padEnd(8)} ${l.name.padEnd(58)} p95 ${ms(p95).padStart(10)}  ${(p95 < TARGET_MS ? 'MET' : 'NOT MET').padEnd(7)}` +
        `  beside ${ref.name.trim()}: p95 ${ms(percentile(ref.xs, 95))}`)
    }
    console.log(`  ${r.name.padEnd(8)} ${r.rawCheck}`)
  }
  if (runs.length === 2) {
    const [a, b] = runs as [StoreRun, StoreRun]
    for (const k of Object.keys(a.reports)) {
      const diff = firstDifference(JSON.parse(a.reports[k] as string), JSON.parse(b.reports[k] as string), '')
      console.log(`  ${k}: ${diff === null ? 'identical on both stores' : `DIFFERS between the stores, first at ${diff}`}`)
    }
  }
  console.log(`\nload average (1/5/15 min) at the end ${load1()}`)
}

main().then(cleanup, async (err: unknown) => { await cleanup(); console.error(err); process.exitCode = 1 })
