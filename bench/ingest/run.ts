/**
 * Ingest bench, on SQLite and on PostgreSQL side by side in one run (`--store both`, the
 * default). N agents, enrolled for real, post gzip'd sync batches over HTTP to collector
 * processes on loopback. For each store it prints, from the same run:
 *   1. the reference: the same rows inserted straight, one transaction per 2,000 rows: on
 *      SQLite a prepared better-sqlite3 insert (WAL, synchronous=FULL, the store's pragmas); on
 *      PostgreSQL multi-row INSERTs into the result table over one connection, at the store's
 *      synchronous_commit ('on');
 *   2. HTTP ingest sustained results/s with `--inflight` requests outstanding, and its share
 *      of the reference;
 *   3. acknowledgement latency (p50/p99) with all agents syncing open-loop at `--load` × the
 *      measured capacity (1,000 agents really sync every 300 s, ~3 req/s; this compresses days
 *      of traffic into seconds).
 * SQLite runs one collector on its data dir. PostgreSQL runs a private throwaway cluster
 * (initdb in a temp dir, its own socket dir and loopback port, removed at the end) and
 * `--collectors` (default 2) collector processes on one database of it (TOCDO_DATABASE_URL);
 * successive syncs of an agent alternate between the collectors, as a round-robin balancer
 * would spread them, so two collectors commit results of one agent at once.
 *
 *   npm run bench:ingest -- [--store sqlite|postgres|both] [--agents 1000] [--batch 100] [--results 300000]
 *     [--inflight 32] [--load 0.5] [--collectors 2] [--profile <dir>]
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { parseArgs } from 'node:util'
import { Agent, request } from 'undici'
import { openDatabase } from '../../collector/storage/db.js'
import { Ingestor } from '../../collector/ingest/ingest.js'
import { INSERT_RESULT_SQL } from '../../collector/storage/sqlite/results.js'
import { createPool } from '../../collector/storage/postgres/pool.js'
import { migratePostgres } from '../../collector/storage/postgres/migrate.js'
import { PostgresResultStore, RESULT_COLUMN_NAMES, resultValues } from '../../collector/storage/postgres/results.js'
import type { Agency, AgentRow, ResultRow } from '../../collector/storage/stores.js'
import { percentile } from '../../shared/stats.js'
import { vnMonth } from '../../shared/vn-time.js'
import { latencyRecord } from '../../test/fixtures/records.js'
import { databaseUrl, startPostgresCluster, type PostgresCluster } from '../../test/fixtures/postgres-cluster.js'
import type { EnrollReply, NewAgencyReply } from '../../shared/schemas/fleet.js'
import type { ResultRecord } from '../../shared/schemas/result.js'

type Store = 'sqlite' | 'postgres'

const { values: flags } = parseArgs({
  options: {
    store: { type: 'string', default: 'both' },
    agents: { type: 'string', default: '1000' },
    batch: { type: 'string', default: '100' },
    results: { type: 'string', default: '300000' },
    inflight: { type: 'string', default: '32' },
    load: { type: 'string', default: '0.5' },
    collectors: { type: 'string', default: '2' },
    'latency-seconds': { type: 'string', default: '10' },
    /** Write a V8 CPU profile of each collector process into this directory. */
    profile: { type: 'string' }
  }
})
const STORES: Store[] = flags.store === 'both' ? ['sqlite', 'postgres'] : flags.store === 'sqlite' || flags.store === 'postgres' ? [flags.store] : []
if (STORES.length === 0) throw new Error(`--store must be sqlite, postgres or both, not ${JSON.stringify(flags.store)}`)
const AGENTS = Number(flags.agents)
const BATCH = Number(flags.batch)
const TOTAL = Math.ceil(Number(flags.results) / BATCH) * BATCH
const INFLIGHT = Number(flags.inflight)
const LOAD = Number(flags.load)
const PG_COLLECTORS = Number(flags.collectors)
const LATENCY_S = Number(flags['latency-seconds'])
for (const [name, v] of Object.entries({ agents: AGENTS, batch: BATCH, results: TOTAL, inflight: INFLIGHT, collectors: PG_COLLECTORS, 'latency-seconds': LATENCY_S })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`)
}
if (!(LOAD > 0)) throw new Error('--load must be a positive number (a share of the measured capacity)')
const ADMIN = 'bench-admin-token-0123456789abcdef'
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
/** Rows per transaction of the references. */
const REF_TX_ROWS = 2000

/** The targets (issue 13, item 6, for PostgreSQL with two collectors; the SQLite ones as before). */
const TARGETS: Record<Store, { rate: number, shareOfRef: number | null, p99Ms: number }> = {
  sqlite: { rate: 20_000, shareOfRef: 0.25, p99Ms: 250 },
  postgres: { rate: 10_000, shareOfRef: null, p99Ms: 250 }
}

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' / ')
const met = (ok: boolean): string => ok ? 'MET' : 'NOT MET'

function heartbeat (): object {
  return {
    agentVersion: '0.1.0',
    configVersion: 1,
    uptimeS: 3600,
    queue: { pending: BATCH, oldestAgeS: 300, dead: 0, bytes: BATCH * 900 },
    counters: { skippedCrossTraffic: 0, skippedBudget: 0, storageFull: 0, missedSlots: 0 },
    clock: { offsetMs: -120, sinceSyncS: 300 }
  }
}

function records (n: number): ResultRecord[] {
  return Array.from({ length: n }, () => latencyRecord())
}

/** The rows the store would write for `sample`, prepared by the collector's own Ingestor. */
function preparedRows (sample: ResultRecord[]): ResultRow[] {
  const agent: AgentRow = { id: 'raw-agent', agencyId: 'raw', name: 'raw', status: 'active', createdAt: 0, lastSeenAt: null, agentVersion: null }
  const agency: Agency = {
    id: 'raw',
    name: 'raw',
    category: 'organisation',
    connectionClass: 'fixed',
    isp: 'x',
    planDownMbps: 300,
    planUpMbps: 300,
    communeCode: '23281',
    provinceCode: '62',
    legacyCommuneCode: null,
    legacyDistrictCode: '608',
    legacyProvinceCode: '62',
    placementNote: null,
    highTechZone: null,
    createdAt: 0
  }
  return new Ingestor().prepare(agent, agency, sample).rows.map((r) => r.row)
}

/** SQLite reference: the same rows inserted straight into a fresh database, rows/s. */
function sqliteRawRate (rows: ResultRow[]): number {
  const dir = mkdtempSync(join(tmpdir(), 'tocdo-bench-raw-'))
  try {
    const db = openDatabase(join(dir, 'raw.sqlite'))
    const insert = db.prepare(INSERT_RESULT_SQL)
    const t0 = performance.now()
    for (let i = 0; i < rows.length; i += REF_TX_ROWS) {
      db.transaction(() => { for (const p of rows.slice(i, i + REF_TX_ROWS)) insert.run(p) })()
    }
    const s = (performance.now() - t0) / 1000
    db.close()
    return rows.length / s
  } finally { rmSync(dir, { recursive: true, force: true }) }
}

/**
 * PostgreSQL reference: the same rows inserted straight into the result table of a freshly
 * migrated database of the bench's cluster, one multi-row INSERT and one transaction per
 * 2,000 rows, over one connection, synchronous_commit 'on' as the store commits. rows/s.
 */
async function postgresRawRate (cluster: PostgresCluster, rows: ResultRow[]): Promise<{ rate: number, serverCpuUs: number }> {
  const clusterUrl = cluster.url
  const admin = createPool(clusterUrl, { max: 1 })
  await admin.query('CREATE DATABASE tocdo_bench_raw')
  await admin.end()
  const pool = createPool(databaseUrl(clusterUrl, 'tocdo_bench_raw'), { max: 1 })
  try {
    await migratePostgres(pool)
    await (await PostgresResultStore.open(pool)).ensurePartitions(rows.map((r) => vnMonth(r.measuredAtCorr)))
    const width = RESULT_COLUMN_NAMES.length
    const client = await pool.connect()
    try {
      await client.query('SET synchronous_commit = on')
      const cpu0 = serverCpuSeconds(cluster)
      const t0 = performance.now()
      for (let i = 0; i < rows.length; i += REF_TX_ROWS) {
        const chunk = rows.slice(i, i + REF_TX_ROWS)
        const values = chunk.map((_, r) => `(${RESULT_COLUMN_NAMES.map((_, c) => `$${r * width + c + 1}`).join(', ')})`).join(', ')
        await client.query('BEGIN')
        await client.query(`INSERT INTO result (${RESULT_COLUMN_NAMES.join(', ')}) VALUES ${values}`, chunk.flatMap(resultValues))
        await client.query('COMMIT')
      }
      const rate = rows.length / ((performance.now() - t0) / 1000)
      return { rate, serverCpuUs: 1e6 * (serverCpuSeconds(cluster) - cpu0) / rows.length }
    } finally { client.release() }
  } finally { await pool.end() }
}

/** CPU seconds (user + system) a process has used: robust to other load on the machine. */
function cpuSeconds (pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
    // utime and stime are fields 14 and 15 of stat, i.e. 12 and 13 after the command name.
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch { return 0 } // a backend that has exited meanwhile
}

/** The PostgreSQL server's processes: the postmaster (first line of postmaster.pid) and its children. */
function serverPids (cluster: PostgresCluster): number[] {
  const postmaster = Number(readFileSync(join(cluster.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0])
  const children = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    try { return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]) === postmaster } catch { return false }
  })
  return [postmaster, ...children]
}

const serverCpuSeconds = (cluster: PostgresCluster): number => serverPids(cluster).reduce((s, pid) => s + cpuSeconds(pid), 0)

interface Collector { url: string, pid: number, stop: () => Promise<void> }

async function startCollector (dataDir: string, env: Record<string, string> = {}): Promise<Collector> {
  const prof = flags.profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', flags.profile]
  const proc = spawn(process.execPath, [...prof, '--import', 'tsx', 'collector/cli.ts', 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'info'], {
    cwd: ROOT,
    env: { ...process.env, TOCDO_ADMIN_TOKEN: ADMIN, TOCDO_SYNC_RATE_LIMIT_MAX: '1000000', TOCDO_ENROL_RATE_LIMIT_PER_MIN: '1000000', TOCDO_IPV6_PROBE_INTERVAL_MIN: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const exited = new Promise((resolve) => proc.once('exit', resolve))
  // Logging stays at info, as deployed: one line per sync is part of the cost measured.
  let out = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collector did not start:\n${out}`)), 60_000)
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`collector exited with ${String(code)} before listening:\n${out}`)) })
    proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (out.length < 100_000) out += d
      const m = /"address":"(http:\/\/[^"]+)".*tocdo collector listening/.exec(out)
      if (m?.[1] !== undefined) { clearTimeout(timer); resolve(m[1]) }
    })
  })
  return { url, pid: proc.pid ?? 0, stop: async () => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM'); await exited } }
}

async function post<T> (dispatcher: Agent, url: string, token: string, body: string | Buffer, gz: boolean): Promise<{ status: number, json: T }> {
  const res = await request(url, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(gz ? { 'content-encoding': 'gzip' } : {}) },
    body
  })
  return { status: res.statusCode, json: await res.body.json() as T }
}

interface Figures { store: Store, collectors: number, ref: number, rate: number, p50: number, p99: number, openP50: number, openP99: number, openRate: number, cpuUs: number, serverCpuUs: number | null, load: string }

/** Enrols, then measures throughput and open-loop latency against `collectors` (one store). */
async function measureIngest (store: Store, ref: number, collectors: Collector[], serverCpu: (() => number) | null): Promise<Figures> {
  const dispatcher = new Agent({ connections: 2000, pipelining: 1, keepAliveTimeout: 60_000 })
  const n = collectors.length
  try {
    // Enrol every agent for real, through the first collector (the store is shared): agencies with one code each, then /enroll.
    const first = (collectors[0] as Collector).url
    const agents: EnrollReply[] = new Array(AGENTS)
    let nextAgent = 0
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (nextAgent < AGENTS) {
        const i = nextAgent++
        const add = await post<NewAgencyReply>(dispatcher, `${first}/api/v1/admin/agencies`, ADMIN, JSON.stringify({
          name: `Bench agency ${i}`, communeCode: '23281', scheme: '2025-03', category: 'organisation', connectionClass: 'fixed', isp: 'VNPT', planDownMbps: 300, planUpMbps: 300
        }), false)
        if (add.status !== 200 && add.status !== 201) throw new Error(`agency failed: ${add.status} ${JSON.stringify(add.json)}`)
        const en = await post<EnrollReply>(dispatcher, `${first}/api/v1/enroll`, '', JSON.stringify({ code: add.json.enrolment.code, hostname: `bench-${i}`, os: 'linux', arch: 'x64', agentVersion: '0.1.0' }), false)
        if (en.status !== 200) throw new Error(`enrol failed: ${en.status} ${JSON.stringify(en.json)}`)
        agents[i] = en.json
      }
    }))
    console.log(`  enrolled ${agents.length} agents`)

    // Bodies built and gzip'd before the clock starts: the bench measures the collector. The
    // i-th sync goes to collector (i + round) mod n, so an agent's successive syncs alternate.
    const bodies: Array<{ agent: EnrollReply, url: string, body: Buffer }> = []
    for (let i = 0; i < TOTAL / BATCH; i++) {
      const agent = agents[i % AGENTS] as EnrollReply
      const url = (collectors[(i + Math.floor(i / AGENTS)) % n] as Collector).url
      const json = JSON.stringify({ agentId: agent.agentId, sentAt: new Date().toISOString(), heartbeat: heartbeat(), results: records(BATCH) })
      bodies.push({ agent, url, body: gzipSync(json) })
    }

    // 2. Throughput: INFLIGHT requests outstanding until every batch is acknowledged.
    const lat: number[] = []
    let accepted = 0
    let next = 0
    const cpu = (): number => collectors.reduce((s, c) => s + cpuSeconds(c.pid), 0)
    const cpu0 = cpu()
    const srv0 = serverCpu?.() ?? 0
    const t0 = performance.now()
    await Promise.all(Array.from({ length: INFLIGHT }, async () => {
      while (next < bodies.length) {
        const { agent, url, body } = bodies[next++] as (typeof bodies)[number]
        const s = performance.now()
        const r = await post<{ acks: { accepted: number } }>(dispatcher, `${url}/api/v1/sync`, agent.token, body, true)
        lat.push(performance.now() - s)
        if (r.status !== 200) throw new Error(`sync: ${r.status} ${JSON.stringify(r.json)}`)
        accepted += r.json.acks.accepted
      }
    }))
    const secs = (performance.now() - t0) / 1000
    const cpuUs = 1e6 * (cpu() - cpu0) / accepted
    const serverCpuUs = serverCpu === null ? null : 1e6 * (serverCpu() - srv0) / accepted
    const loadNow = load()
    const rate = accepted / secs
    lat.sort((x, y) => x - y)
    console.log(`  HTTP ingest, ${INFLIGHT} requests in flight over ${n} collector${n > 1 ? 's' : ''}: ${fmt(rate)} results/s sustained (${fmt(accepted)} in ${fmt(secs, 1)} s) = ${fmt(100 * rate / ref, 1)} % of the reference; ack latency p50 ${fmt(percentile(lat, 50) ?? NaN, 1)} ms, p99 ${fmt(percentile(lat, 99) ?? NaN, 1)} ms`)
    console.log(`  CPU per result: collector${n > 1 ? 's' : ''} ${fmt(cpuUs, 1)} µs${serverCpuUs === null ? '' : `, PostgreSQL server ${fmt(serverCpuUs, 1)} µs`} (all threads); load average (1/5/15 min) at the end: ${loadNow}`)

    // 3. Latency: every agent syncing open-loop, the aggregate offering LOAD × capacity.
    const targetRps = LOAD * rate / BATCH
    const plan: Array<{ at: number, agent: number }> = []
    const periodMs = 1000 * AGENTS / targetRps
    agents.forEach((_, a) => {
      const phase = Math.random() * periodMs
      for (let at = phase; at < LATENCY_S * 1000; at += periodMs) plan.push({ at, agent: a })
    })
    plan.sort((x, y) => x.at - y.at)
    const sent = new Array<number>(AGENTS).fill(0)
    const planned = plan.map(({ at, agent: a }) => {
      const agent = agents[a] as EnrollReply
      const k = sent[a] as number
      sent[a] = k + 1
      return {
        at,
        agent,
        url: (collectors[(a + k) % n] as Collector).url,
        body: gzipSync(JSON.stringify({ agentId: agent.agentId, sentAt: new Date().toISOString(), heartbeat: heartbeat(), results: records(BATCH) }))
      }
    })
    const lat2: number[] = []
    let acc2 = 0
    const t1 = performance.now()
    await Promise.all(planned.map(async ({ at, agent, url, body }) => {
      await new Promise((resolve) => setTimeout(resolve, at))
      const s = performance.now()
      const r = await post<{ acks: { accepted: number } }>(dispatcher, `${url}/api/v1/sync`, agent.token, body, true)
      lat2.push(performance.now() - s)
      if (r.status === 200) acc2 += r.json.acks.accepted
    }))
    const secs2 = (performance.now() - t1) / 1000
    lat2.sort((x, y) => x - y)
    const openRate = acc2 / secs2
    console.log(`  open loop, ${AGENTS} agents at ${fmt(LOAD * 100)} % of capacity (${fmt(targetRps, 1)} syncs/s, ${fmt(openRate)} results/s): ack latency p50 ${fmt(percentile(lat2, 50) ?? NaN, 1)} ms, p99 ${fmt(percentile(lat2, 99) ?? NaN, 1)} ms, max ${fmt(lat2.at(-1) ?? 0, 1)} ms over ${lat2.length} syncs; load average: ${load()}`)
    return {
      store,
      collectors: n,
      ref,
      rate,
      p50: percentile(lat, 50) ?? NaN,
      p99: percentile(lat, 99) ?? NaN,
      openP50: percentile(lat2, 50) ?? NaN,
      openP99: percentile(lat2, 99) ?? Infinity,
      openRate,
      cpuUs,
      serverCpuUs,
      load: loadNow
    }
  } finally {
    await dispatcher.close()
  }
}

async function benchSqlite (rows: ResultRow[]): Promise<Figures> {
  console.log('SQLite (one collector, its data dir; WAL, synchronous=FULL)')
  const ref = sqliteRawRate(rows)
  console.log(`  reference: raw better-sqlite3 insert (prepared, ${fmt(REF_TX_ROWS)} rows/transaction, WAL, synchronous=FULL): ${fmt(ref)} rows/s`)
  const dataDir = mkdtempSync(join(tmpdir(), 'tocdo-bench-ingest-'))
  let collector: Collector | undefined
  try {
    collector = await startCollector(dataDir)
    return await measureIngest('sqlite', ref, [collector], null)
  } finally {
    await collector?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

async function benchPostgres (rows: ResultRow[]): Promise<Figures> {
  const cluster = await startPostgresCluster()
  const dirs: string[] = []
  const collectors: Collector[] = []
  try {
    console.log(`PostgreSQL ${cluster.version} (private cluster on 127.0.0.1:${cluster.port}, fsync on, synchronous_commit on; ${PG_COLLECTORS} collector processes on one database)`)
    const { rate: ref, serverCpuUs } = await postgresRawRate(cluster, rows)
    console.log(`  reference: raw INSERT into result (multi-row, ${fmt(REF_TX_ROWS)} rows/transaction, one connection, synchronous_commit on): ${fmt(ref)} rows/s; PostgreSQL server CPU ${fmt(serverCpuUs, 1)} µs/row`)
    const admin = createPool(cluster.url, { max: 1 })
    await admin.query('CREATE DATABASE tocdo_bench')
    await admin.end()
    const url = databaseUrl(cluster.url, 'tocdo_bench')
    // One after the other: the first applies the migrations.
    for (let i = 0; i < PG_COLLECTORS; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'tocdo-bench-ingest-'))
      dirs.push(dir)
      collectors.push(await startCollector(dir, { TOCDO_DATABASE_URL: url }))
    }
    return await measureIngest('postgres', ref, collectors, () => serverCpuSeconds(cluster))
  } finally {
    for (const c of collectors) await c.stop()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
    await cluster.stop()
  }
}

async function main (): Promise<void> {
  console.log(`ingest bench: ${AGENTS} agents, batches of ${BATCH} latency records (~${JSON.stringify(latencyRecord()).length} B each), ${fmt(TOTAL)} results, stores: ${STORES.join(', ')}; Node ${process.version}; load average (1/5/15 min) at the start: ${load()}`)
  const rows = preparedRows(records(Math.min(TOTAL, 100_000)))
  const figures: Figures[] = []
  for (const store of STORES) figures.push(store === 'sqlite' ? await benchSqlite(rows) : await benchPostgres(rows))

  console.log('\nside by side (each beside its reference from this run):')
  console.log('  store      collectors  reference rows/s  ingest results/s  % of ref  closed-loop p99 ms  open-loop p99 ms  collector CPU µs/result  load avg at end of ingest')
  for (const f of figures) {
    console.log(`  ${f.store.padEnd(9)}  ${String(f.collectors).padStart(10)}  ${fmt(f.ref).padStart(16)}  ${fmt(f.rate).padStart(16)}  ${fmt(100 * f.rate / f.ref, 1).padStart(8)}  ${fmt(f.p99, 1).padStart(18)}  ${fmt(f.openP99, 1).padStart(16)}  ${fmt(f.cpuUs, 1).padStart(23)}  ${f.load}`)
  }
  console.log('targets (this 2-core machine):')
  for (const f of figures) {
    const t = TARGETS[f.store]
    const parts = [`≥ ${fmt(t.rate)} results/s ${met(f.rate >= t.rate)} (${fmt(f.rate)})`]
    if (t.shareOfRef !== null) parts.push(`≥ ${fmt(100 * t.shareOfRef)} % of the reference ${met(f.rate >= t.shareOfRef * f.ref)} (${fmt(100 * f.rate / f.ref, 1)} %)`)
    parts.push(`p99 ack < ${t.p99Ms} ms with ${AGENTS} agents ${met(f.openP99 < t.p99Ms)} (${fmt(f.openP99, 1)} ms)`)
    console.log(`  ${f.store}${f.store === 'postgres' ? `, ${f.collectors} collectors` : ''}: ${parts.join('; ')}`)
  }
}

main().catch((err: unknown) => { console.error(err); process.exit(1) })
