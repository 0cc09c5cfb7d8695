import Database from 'better-sqlite3'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Outbox } from '../../agent/outbox/outbox.js'
import { createPool, type Pool } from '../../collector/storage/postgres/pool.js'
import { postgresStores } from '../../collector/storage/postgres/index.js'
import { FAST_AGENT_ENV, runAgent, spawnAgent, type AgentProcess } from '../helpers/agent-process.js'
import { spawnCollector, type CollectorProcess } from '../helpers/collector-process.js'
import { addAgency } from '../helpers/fleet-client.js'
import { createTestDatabase } from '../helpers/postgres.js'
import { until } from '../helpers/until.js'
import { latencyRecord } from '../fixtures/records.js'

/**
 * Issue 13, item 4: two collector processes on one PostgreSQL database behind nginx with the
 * configuration in docs/reverse-proxy/nginx-tocdo-fleet.conf, real agents syncing through it,
 * one collector killed with SIGKILL in the middle of commits several times (restarted each
 * time). Nothing acknowledged is lost, nothing is stored twice, the rollups equal a rebuild
 * from the raw rows, and every agent's outbox ends empty.
 */
const ADMIN = 'fleet-lb-admin-token-0123456789abcdef'
const AGENTS = 4
const KILLS = 3
/** Results each agent measures (adds to its outbox) before each kill and once more after the last. */
const CHUNK = 1000
const PER_AGENT = CHUNK * (KILLS + 1)
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p)) ?? 'nginx'

async function freePort (): Promise<number> {
  return await new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => { resolve(port) })
    })
  })
}

/** The result ids still waiting in an agent's outbox (read beside the running agent). */
function pendingIds (agentDir: string): Set<string> {
  const db = new Database(join(agentDir, 'outbox.sqlite'), { readonly: true, timeout: 10_000 })
  try {
    return new Set(db.prepare('SELECT result_id FROM outbox').pluck().all() as string[])
  } finally {
    db.close()
  }
}

/** The month and hour rollups (the hour rows hold speed tests only) by their natural keys (a rebuild numbers the month rows afresh). */
async function rollupRows (pool: Pool): Promise<{ month: unknown[], hour: unknown[] }> {
  const key = 'm.agent_id, m.month, m.band, m.connection_class, m.isp, m.agency_id, m.commune_code, m.province_code, m.legacy_district_code, m.legacy_province_code'
  const month = await pool.query(`SELECT m.*, NULL AS id FROM rollup_agent_month m ORDER BY ${key}`)
  const hour = await pool.query(`SELECT h.agent_id, h.hour_start, h.band, h.tests, ${key} FROM rollup_agent_hour h JOIN rollup_agent_month m ON m.id = h.month_id ORDER BY h.agent_id, h.hour_start, h.band`)
  return { month: month.rows, hour: hour.rows }
}

describe('two collectors on one PostgreSQL behind nginx, one killed with SIGKILL mid-commit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocdo-fleet-lb-'))
  const collectors: Array<CollectorProcess | null> = [null, null]
  const agents: AgentProcess[] = []
  let nginx: ReturnType<typeof spawn> | null = null
  afterAll(async () => {
    for (const a of agents) if (a.proc.exitCode === null && a.proc.signalCode === null) { a.proc.kill('SIGTERM'); await a.exited }
    for (const c of collectors) if (c !== null && c.proc.exitCode === null && c.proc.signalCode === null) { c.proc.kill('SIGTERM'); await c.exited }
    if (nginx !== null && nginx.exitCode === null) { nginx.kill('SIGTERM'); await new Promise((resolve) => nginx?.once('exit', resolve)) }
    rmSync(dir, { recursive: true, force: true })
  })

  it('loses no acknowledged result, stores none twice, keeps the rollups equal to a rebuild, and drains every outbox', async () => {
    const db = await createTestDatabase()
    const env = { TOCDO_DATABASE_URL: db.url, TOCDO_ADMIN_TOKEN: ADMIN, TOCDO_TRUST_PROXY: '127.0.0.1', TOCDO_SYNC_RATE_LIMIT_MAX: '100000', TOCDO_ENROL_RATE_LIMIT_PER_MIN: '1000', TOCDO_IPV6_PROBE_INTERVAL_MIN: '0', TOCDO_NEXT_SYNC_S: '10' }
    const ports = [await freePort(), await freePort()]
    const start = async (i: number): Promise<CollectorProcess> => {
      const c = await spawnCollector({ dataDir: join(dir, `c${i}`), env, args: ['--port', String(ports[i])] })
      collectors[i] = c
      return c
    }
    await start(0)
    await start(1)

    const lbPort = await freePort()
    const prefix = join(dir, 'nginx')
    mkdirSync(prefix)
    const site = readFileSync('docs/reverse-proxy/nginx-tocdo-fleet.conf', 'utf8')
      .replace('server 127.0.0.1:8080 ', `server 127.0.0.1:${ports[0]} `)
      .replace('server 127.0.0.1:8081 ', `server 127.0.0.1:${ports[1]} `)
      .replace('listen 8000;', `listen 127.0.0.1:${lbPort};`)
    writeFileSync(join(prefix, 'tocdo.conf'), site)
    writeFileSync(join(prefix, 'nginx.conf'), `pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy; fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  include ${prefix}/tocdo.conf;
}
`)
    const lb = spawn(NGINX, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off; master_process off;'], { stdio: ['ignore', 'pipe', 'pipe'] })
    nginx = lb
    let nginxErr = ''
    lb.stderr?.setEncoding('utf8').on('data', (d: string) => { nginxErr += d })
    const base = `http://127.0.0.1:${lbPort}`
    await until(async () => { try { return (await fetch(`${base}/healthz`)).status === 200 } catch { return false } },
      { timeoutMs: 30_000, what: `nginx to answer (${nginxErr})` })

    // Enrolment through the balancer with the agent's CLI.
    const produced = new Map<string, { dir: string, ids: string[] }>()
    for (let i = 0; i < AGENTS; i++) {
      const agentDir = join(dir, `agent${i}`)
      const { enrolment } = await addAgency(base, ADMIN, { name: `Agency ${i}` })
      const enrolled = await runAgent(['enroll', '--collector', base, '--code', enrolment.code, '--data-dir', agentDir])
      expect(enrolled.code, enrolled.output).toBe(0)
      const { agentId } = JSON.parse(readFileSync(join(agentDir, 'identity.json'), 'utf8')) as { agentId: string }
      produced.set(agentId, { dir: agentDir, ids: [] })
    }
    /** Each agent measures another CHUNK results (its outbox takes them beside the running agent, as its scheduler would). */
    const t0 = Date.now() - 5 * 86_400_000
    const measure = (): void => {
      for (const { dir: agentDir, ids } of produced.values()) {
        const ob = new Outbox(agentDir)
        try {
          for (let n = 0; n < CHUNK; n++) {
            const r = latencyRecord({}, new Date(t0 + ids.length * 60_000))
            ob.add(r)
            ids.push(r.id)
          }
        } finally {
          ob.close()
        }
      }
    }
    const total = AGENTS * PER_AGENT

    const pool = createPool(db.url, { max: 2 })
    try {
      const stored = async (): Promise<number> => (await pool.query<{ n: number }>('SELECT count(*) AS n FROM result')).rows[0]?.n ?? 0
      /** Every result that has left an agent's outbox (the agent deletes a result only once acknowledged) is in the store. */
      const checkAcknowledged = async (): Promise<number> => {
        let acked = 0
        for (const [agentId, { dir: agentDir, ids }] of produced) {
          const pending = pendingIds(agentDir)
          const gone = ids.filter((id) => !pending.has(id))
          acked += gone.length
          const found = (await pool.query<{ n: number }>('SELECT count(*) AS n FROM result WHERE agent_id = $1 AND result_id = ANY($2)', [agentId, gone])).rows[0]?.n
          expect(found, `acknowledged results of ${agentId} in the store`).toBe(gone.length)
        }
        return acked
      }

      for (const { dir: agentDir } of produced.values()) {
        const a = spawnAgent(['run', '--data-dir', agentDir, '--server', base], { env: FAST_AGENT_ENV })
        agents.push(a)
      }

      // Each round the agents measure another CHUNK results; once a quarter of them is stored, a
      // collector (the two in turn) is killed while the rest are still being committed.
      const kills: Array<{ stored: number, acked: number, roundTotal: number }> = []
      for (let k = 0; k < KILLS; k++) {
        measure()
        const roundTotal = AGENTS * CHUNK * (k + 1)
        const threshold = roundTotal - Math.floor(AGENTS * CHUNK * 3 / 4)
        await until(async () => await stored() >= threshold, { timeoutMs: 300_000, everyMs: 20, what: `${threshold} results stored` })
        const victim = k % 2
        const c = collectors[victim] as CollectorProcess
        c.proc.kill('SIGKILL')
        expect(await c.exited).toBe('SIGKILL')
        kills.push({ stored: await stored(), acked: await checkAcknowledged(), roundTotal })
        await start(victim)
      }
      // Each kill fell while the round's results were still arriving.
      for (const k of kills) expect(k.stored, JSON.stringify(kills)).toBeLessThan(k.roundTotal)
      measure()

      // Every outbox drains.
      await until(() => [...produced.values()].every(({ dir: agentDir }) => pendingIds(agentDir).size === 0),
        { timeoutMs: 600_000, everyMs: 200, what: 'every outbox empty' })
      expect(await checkAcknowledged()).toBe(total)

      // Nothing stored twice: per agent, result rows and result keys equal the distinct ids, which equal those produced.
      const counts = (await pool.query<{ agent_id: string, rows: number, ids: number, keys: number }>(`
        SELECT r.agent_id, r.rows, r.ids, k.keys FROM
          (SELECT agent_id, count(*) AS rows, count(DISTINCT result_id) AS ids FROM result GROUP BY agent_id) r
          JOIN (SELECT agent_id, count(*) AS keys FROM result_key GROUP BY agent_id) k USING (agent_id)
        ORDER BY 1`)).rows
      expect(counts).toEqual([...produced.keys()].sort().map((agentId) => ({ agent_id: agentId, rows: PER_AGENT, ids: PER_AGENT, keys: PER_AGENT })))

      // The rollups the ingest transactions kept equal a rebuild from the raw rows.
      const before = await rollupRows(pool)
      expect(before.month.length).toBeGreaterThan(0)
      const stores = await postgresStores(createPool(db.url, { max: 2 }))
      try {
        const { rows } = await stores.results.rebuildRollups()
        expect(rows).toBeGreaterThan(0)
      } finally {
        await stores.close()
      }
      expect(await rollupRows(pool)).toEqual(before)
    } finally {
      await pool.end()
    }
  }, 900_000)
})
