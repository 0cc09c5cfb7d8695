/**
 * Ingest bench: N agents, enrolled for real, post gzip'd sync batches over HTTP to a
 * collector running as a separate process on loopback (same data-dir layout, WAL,
 * synchronous=FULL). Prints, from one run:
 *   1. the raw better-sqlite3 insert rate of the same rows (prepared statement, one
 *      transaction per 2,000 rows, same pragmas): the reference;
 *   2. HTTP ingest sustained results/s with `--inflight` requests outstanding, and the
 *      share of the raw rate;
 *   3. acknowledgement latency (p50/p99) with all agents syncing open-loop at `--load`
 *      × the measured capacity (1,000 agents really sync every 300 s, ~3 req/s; this
 *      compresses days of traffic into seconds).
 *
 *   npx tsx bench/ingest/run.ts [--agents 1000] [--batch 100] [--results 300000] [--inflight 32] [--load 0.5]
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { parseArgs } from 'node:util'
import { Agent, request } from 'undici'
import { openDatabase } from '../../collector/storage/db.js'
import { Ingestor } from '../../collector/ingest/ingest.js'
import { INSERT_RESULT_SQL } from '../../collector/storage/sqlite/results.js'
import type { Agency, AgentRow } from '../../collector/storage/stores.js'
import { percentile } from '../../shared/stats.js'
import { latencyRecord } from '../../test/fixtures/records.js'
import type { EnrollReply, NewAgencyReply } from '../../shared/schemas/fleet.js'
import type { ResultRecord } from '../../shared/schemas/result.js'

const { values: flags } = parseArgs({
  options: {
    agents: { type: 'string', default: '1000' },
    batch: { type: 'string', default: '100' },
    results: { type: 'string', default: '300000' },
    inflight: { type: 'string', default: '32' },
    load: { type: 'string', default: '0.5' },
    'latency-seconds': { type: 'string', default: '10' },
    /** Write a V8 CPU profile of the collector process into this directory. */
    profile: { type: 'string' }
  }
})
const AGENTS = Number(flags.agents)
const BATCH = Number(flags.batch)
const TOTAL = Math.ceil(Number(flags.results) / BATCH) * BATCH
const INFLIGHT = Number(flags.inflight)
const LOAD = Number(flags.load)
const LATENCY_S = Number(flags['latency-seconds'])
const ADMIN = 'bench-admin-token-0123456789abcdef'
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })

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

/** 1. Reference: the same rows inserted straight into a fresh database. */
function rawInsertRate (sample: ResultRecord[]): number {
  const dir = mkdtempSync(join(tmpdir(), 'tocdo-bench-raw-'))
  try {
    const db = openDatabase(join(dir, 'raw.sqlite'))
    const ingestor = new Ingestor()
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
    const batch = ingestor.prepare(agent, agency, sample)
    const insert = db.prepare(INSERT_RESULT_SQL)
    const rows = batch.rows.map((r) => r.row)
    const t0 = performance.now()
    for (let i = 0; i < rows.length; i += 2000) {
      db.transaction(() => { for (const p of rows.slice(i, i + 2000)) insert.run(p) })()
    }
    const s = (performance.now() - t0) / 1000
    db.close()
    return rows.length / s
  } finally { rmSync(dir, { recursive: true, force: true }) }
}

/** CPU seconds (user + system) the process has used: robust to other load on the machine. */
function cpuSeconds (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
  // utime and stime are fields 14 and 15 of stat, i.e. 12 and 13 after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100
}

async function startCollector (dataDir: string): Promise<{ url: string, pid: number, stop: () => Promise<void> }> {
  const prof = flags.profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', flags.profile]
  const proc = spawn(process.execPath, [...prof, '--import', 'tsx', 'collector/cli.ts', 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'info'], {
    cwd: ROOT,
    env: { ...process.env, TOCDO_ADMIN_TOKEN: ADMIN, TOCDO_SYNC_RATE_LIMIT_MAX: '1000000', TOCDO_ENROL_RATE_LIMIT_PER_MIN: '1000000' },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const exited = new Promise((resolve) => proc.once('exit', resolve))
  // Logging stays at info, as deployed: one line per sync is part of the cost measured.
  let out = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collector did not start:\n${out}`)), 30_000)
    proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (out.length < 100_000) out += d
      const m = /"address":"(http:\/\/[^"]+)".*tocdo collector listening/.exec(out)
      if (m?.[1] !== undefined) { clearTimeout(timer); resolve(m[1]) }
    })
  })
  return { url, pid: proc.pid ?? 0, stop: async () => { proc.kill('SIGTERM'); await exited } }
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

async function main (): Promise<void> {
  console.log(`ingest bench: ${AGENTS} agents, batches of ${BATCH} latency records (~${JSON.stringify(latencyRecord()).length} B each), ${fmt(TOTAL)} results, Node ${process.version}`)

  const sample = records(Math.min(TOTAL, 100_000))
  const raw = rawInsertRate(sample)
  console.log(`raw better-sqlite3 insert (prepared, 2,000 rows/transaction, WAL, synchronous=FULL): ${fmt(raw)} rows/s`)

  const dataDir = mkdtempSync(join(tmpdir(), 'tocdo-bench-ingest-'))
  const collector = await startCollector(dataDir)
  const dispatcher = new Agent({ connections: 2000, pipelining: 1, keepAliveTimeout: 60_000 })
  try {
    // Enrol every agent for real: agencies with one code each, then /enroll.
    const agents: EnrollReply[] = []
    for (let i = 0; i < AGENTS; i++) {
      const add = await post<NewAgencyReply>(dispatcher, `${collector.url}/api/v1/admin/agencies`, ADMIN, JSON.stringify({
        name: `Bench agency ${i}`, communeCode: '23281', scheme: '2025-03', category: 'organisation', connectionClass: 'fixed', isp: 'VNPT', planDownMbps: 300, planUpMbps: 300
      }), false)
      const en = await post<EnrollReply>(dispatcher, `${collector.url}/api/v1/enroll`, '', JSON.stringify({ code: add.json.enrolment.code, hostname: `bench-${i}`, os: 'linux', arch: 'x64', agentVersion: '0.1.0' }), false)
      if (en.status !== 200) throw new Error(`enrol failed: ${en.status} ${JSON.stringify(en.json)}`)
      agents.push(en.json)
    }
    console.log(`enrolled ${agents.length} agents`)

    // Bodies built and gzip'd before the clock starts: the bench measures the collector.
    const bodies: Array<{ agent: EnrollReply, body: Buffer }> = []
    for (let i = 0; i < TOTAL / BATCH; i++) {
      const agent = agents[i % agents.length] as EnrollReply
      const json = JSON.stringify({ agentId: agent.agentId, sentAt: new Date().toISOString(), heartbeat: heartbeat(), results: records(BATCH) })
      bodies.push({ agent, body: gzipSync(json) })
    }

    // 2. Throughput: INFLIGHT requests outstanding until every batch is acknowledged.
    const lat: number[] = []
    let accepted = 0
    let next = 0
    const cpu0 = cpuSeconds(collector.pid)
    const t0 = performance.now()
    await Promise.all(Array.from({ length: INFLIGHT }, async () => {
      while (next < bodies.length) {
        const { agent, body } = bodies[next++] as { agent: EnrollReply, body: Buffer }
        const s = performance.now()
        const r = await post<{ acks: { accepted: number } }>(dispatcher, `${collector.url}/api/v1/sync`, agent.token, body, true)
        lat.push(performance.now() - s)
        if (r.status !== 200) throw new Error(`sync: ${r.status} ${JSON.stringify(r.json)}`)
        accepted += r.json.acks.accepted
      }
    }))
    const secs = (performance.now() - t0) / 1000
    const cpuPerResultUs = 1e6 * (cpuSeconds(collector.pid) - cpu0) / accepted
    const rate = accepted / secs
    lat.sort((x, y) => x - y)
    console.log(`HTTP ingest, ${INFLIGHT} requests in flight: ${fmt(rate)} results/s sustained (${fmt(accepted)} in ${fmt(secs, 1)} s) = ${fmt(100 * rate / raw, 1)} % of the raw insert rate; ack latency p50 ${fmt(percentile(lat, 50) ?? NaN, 1)} ms, p99 ${fmt(percentile(lat, 99) ?? NaN, 1)} ms`)
    console.log(`collector CPU per result: ${fmt(cpuPerResultUs, 1)} µs (all threads) → ${fmt(1e6 / cpuPerResultUs)} results/s per fully available core; load average during the run: ${(await import('node:os')).loadavg()[0]?.toFixed(1) ?? '?'}`)

    // 3. Latency: every agent syncing open-loop, the aggregate offering LOAD × capacity.
    const targetRps = LOAD * rate / BATCH
    const plan: Array<{ at: number, agent: EnrollReply }> = []
    const periodMs = 1000 * AGENTS / targetRps
    for (const agent of agents) {
      const phase = Math.random() * periodMs
      for (let at = phase; at < LATENCY_S * 1000; at += periodMs) plan.push({ at, agent })
    }
    plan.sort((x, y) => x.at - y.at)
    const planned = plan.map(({ at, agent }) => ({
      at,
      agent,
      body: gzipSync(JSON.stringify({ agentId: agent.agentId, sentAt: new Date().toISOString(), heartbeat: heartbeat(), results: records(BATCH) }))
    }))
    const lat2: number[] = []
    let acc2 = 0
    const t1 = performance.now()
    await Promise.all(planned.map(async ({ at, agent, body }) => {
      await new Promise((resolve) => setTimeout(resolve, at))
      const s = performance.now()
      const r = await post<{ acks: { accepted: number } }>(dispatcher, `${collector.url}/api/v1/sync`, agent.token, body, true)
      lat2.push(performance.now() - s)
      if (r.status === 200) acc2 += r.json.acks.accepted
    }))
    const secs2 = (performance.now() - t1) / 1000
    lat2.sort((x, y) => x - y)
    console.log(`open loop, ${AGENTS} agents at ${fmt(LOAD * 100)} % of capacity (${fmt(targetRps, 1)} syncs/s, ${fmt(acc2 / secs2)} results/s): ack latency p50 ${fmt(percentile(lat2, 50) ?? NaN, 1)} ms, p99 ${fmt(percentile(lat2, 99) ?? NaN, 1)} ms, max ${fmt(lat2.at(-1) ?? 0, 1)} ms over ${lat2.length} syncs`)
    console.log(`targets: ≥ 20,000 results/s ${rate >= 20_000 ? 'MET' : 'NOT MET'}; ≥ 25 % of raw ${rate >= 0.25 * raw ? 'MET' : 'NOT MET'}; p99 < 250 ms with ${AGENTS} agents ${(percentile(lat2, 99) ?? Infinity) < 250 ? 'MET' : 'NOT MET'}`)
  } finally {
    await dispatcher.close()
    await collector.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => { console.error(err); process.exit(1) })
