/**
 * The speed-test server's cost, kept measured (issue 10, item 7). On loopback, one client
 * downloads from each server in turn for the same time with the same number of streams, and
 * the bench reads the server process's own CPU time (utime + stime of every thread, from
 * /proc) before and after. It prints the bytes delivered per CPU-second of the server:
 *
 *   - tocdo's HTTP download (`/speedtest/download`), the collector in --speedtest-only mode;
 *   - tocdo's ndt7 download (`/ndt/v7/download`, WebSocket binary messages);
 *   - nginx from Debian serving a static file from the page cache, sendfile on and off:
 *     the reference, run in the same process of the bench, so a regression shows beside it.
 *
 * The HTTP client is curl (C, cheap, the same for tocdo and nginx); the ndt7 client is `ws`
 * in this process. Throughput depends on what else runs on the machine; the figure per
 * CPU-second much less, which is why it is the one compared.
 *
 * HTTP rows move `--gib` GiB each (whole 1 GiB transfers); ndt7 rows run `--seconds`, as ndt7
 * is bounded by time.
 *
 *   npx tsx bench/server-cost/run.ts [--gib 4] [--seconds 6] [--streams 1,4]
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { once } from 'node:events'
import { createServer } from 'node:net'
import WebSocket from 'ws'

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '6' },
    gib: { type: 'string', default: '4' },
    streams: { type: 'string', default: '1,4' }
  }
})
const SECONDS = Number(flags.seconds)
const STREAMS = flags.streams.split(',').map(Number)
const GIB = Number(flags.gib)
/** How many times each stream fetches the GiB, so a row moves about `GIB` GiB in all. */
const timesFor = (streams: number): number => Math.max(1, Math.round(GIB / streams))
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p))
const CLK_TCK = 100
/** The file nginx serves and the size of each tocdo download: one GiB, fetched again and again. */
const FILE_BYTES = 1024 ** 3

/** CPU seconds a process and all its threads have used (Linux /proc). */
function cpuSeconds (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name, which is in parentheses and may hold spaces.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(rest[11]) + Number(rest[12])) / CLK_TCK
}

function childPids (pid: number): number[] {
  const file = `/proc/${pid}/task/${pid}/children`
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) : []
}

async function freePort (): Promise<number> {
  const s = createServer()
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as { port: number }).port
  s.close()
  return port
}

async function waitFor (what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function answers (url: string): Promise<boolean> {
  try { return (await fetch(url, { method: 'HEAD' })).ok } catch { return false }
}

/**
 * `streams` curls at once, each fetching `url` `times` times in a row on one connection;
 * returns the bytes they received. A fixed amount rather than a fixed time: cost per byte is
 * what is compared, and whole transfers leave nothing in flight when the CPU is read.
 */
async function curlDownload (url: string, streams: number, times: number): Promise<number> {
  const args = ['-s', '-w', '%{size_download}\\n']
  for (let i = 0; i < times; i++) args.push('-o', '/dev/null', url)
  const runs = Array.from({ length: streams }, async () => {
    const p = spawn('curl', args)
    let out = ''
    p.stdout.on('data', (d: Buffer) => { out += d.toString() })
    const [code] = await once(p, 'close') as [number]
    if (code !== 0) throw new Error(`curl ${url} failed with exit code ${code}`)
    return out.trim().split('\n').reduce((sum, n) => sum + Number(n), 0)
  })
  return (await Promise.all(runs)).reduce((a, b) => a + b, 0)
}

async function ndt7Download (base: string, streams: number): Promise<number> {
  const runs = Array.from({ length: streams }, async () => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ndt/v7/download`, 'net.measurementlab.ndt.v7')
    let bytes = 0
    ws.on('message', (data: Buffer, isBinary: boolean) => { if (isBinary) bytes += data.length })
    await once(ws, 'open')
    await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000))
    ws.terminate()
    return bytes
  })
  return (await Promise.all(runs)).reduce((a, b) => a + b, 0)
}

interface Row { server: string, streams: number, bytes: number, seconds: number, cpuS: number }

async function measure (server: string, pids: () => number[], streams: number, run: () => Promise<number>): Promise<Row> {
  const cpu = (): number => pids().reduce((s, p) => s + cpuSeconds(p), 0)
  const c0 = cpu()
  const t0 = performance.now()
  const bytes = await run()
  const seconds = (performance.now() - t0) / 1000
  return { server, streams, bytes, seconds, cpuS: cpu() - c0 }
}

async function startTocdo (): Promise<{ proc: ChildProcess, base: string }> {
  const port = await freePort()
  const proc = spawn(process.execPath, ['--import', 'tsx', 'collector/cli.ts', 'serve', '--speedtest-only', '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warn', '--max-concurrent-tests', '64'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
  const base = `http://127.0.0.1:${port}`
  await waitFor('the tocdo test server', async () => await answers(`${base}/healthz`))
  return { proc, base }
}

async function startNginx (dir: string, sendfile: boolean): Promise<{ proc: ChildProcess, base: string }> {
  if (NGINX === undefined) throw new Error('nginx is not installed (Debian: apt-get install nginx)')
  const port = await freePort()
  const conf = join(dir, `nginx-${sendfile ? 'on' : 'off'}.conf`)
  writeFileSync(conf, `worker_processes 1;
daemon off;
master_process on;
pid ${dir}/nginx-${port}.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  sendfile ${sendfile ? 'on' : 'off'};
  tcp_nopush on;
  server { listen 127.0.0.1:${port}; root ${dir}/www; }
}
`)
  const proc = spawn(NGINX, ['-c', conf, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'inherit'] })
  const base = `http://127.0.0.1:${port}`
  await waitFor('nginx', async () => await answers(`${base}/payload.bin`))
  return { proc, base }
}

async function stop (proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return
  proc.kill('SIGTERM')
  await once(proc, 'exit')
}

const dir = mkdtempSync(join(tmpdir(), 'tocdo-server-cost-'))
const rows: Row[] = []
try {
  // A file written just now, so it sits in the page cache as tocdo's payload sits in memory.
  // nginx's workers run as an unprivileged user: they must be able to read it.
  chmodSync(dir, 0o755)
  mkdirSync(join(dir, 'www'), { mode: 0o755 })
  const fd = openSync(join(dir, 'www', 'payload.bin'), 'w', 0o644)
  const chunk = Buffer.alloc(8 * 1024 ** 2, 0x5a)
  for (let written = 0; written < FILE_BYTES; written += chunk.length) writeSync(fd, chunk)
  closeSync(fd)

  const tocdo = await startTocdo()
  const tocdoPids = (): number[] => [tocdo.proc.pid ?? 0]
  for (const n of STREAMS) {
    rows.push(await measure('tocdo HTTP', tocdoPids, n, async () => await curlDownload(`${tocdo.base}/speedtest/download?bytes=${FILE_BYTES}`, n, timesFor(n))))
    rows.push(await measure('tocdo ndt7', tocdoPids, n, async () => await ndt7Download(tocdo.base, n)))
  }
  await stop(tocdo.proc)

  for (const sendfile of [true, false]) {
    const nginx = await startNginx(dir, sendfile)
    const nginxPids = (): number[] => { const master = nginx.proc.pid ?? 0; return [master, ...childPids(master)] }
    for (const n of STREAMS) rows.push(await measure(`nginx sendfile ${sendfile ? 'on' : 'off'}`, nginxPids, n, async () => await curlDownload(`${nginx.base}/payload.bin`, n, timesFor(n))))
    await stop(nginx.proc)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}

const gbit = (bytes: number, s: number): number => bytes * 8 / 1e9 / s
const reference = new Map(rows.filter((r) => r.server === 'nginx sendfile on').map((r) => [r.streams, gbit(r.bytes, r.cpuS)]))
console.log(`\nServer cost on loopback (HTTP rows ${GIB} GiB each, ndt7 rows ${SECONDS} s), load average ${loadavg()[0]?.toFixed(1) ?? '?'} on ${(await import('node:os')).cpus().length} cores\n`)
console.log('| Server | Streams | Gbit/s delivered | Server CPU-s | Gbit per server CPU-second | ÷ nginx sendfile on |')
console.log('|---|---:|---:|---:|---:|---:|')
for (const r of rows) {
  const perCpu = r.cpuS > 0 ? gbit(r.bytes, r.cpuS) : Number.NaN
  const ref = reference.get(r.streams)
  console.log(`| ${r.server} | ${r.streams} | ${gbit(r.bytes, r.seconds).toFixed(2)} | ${r.cpuS.toFixed(2)} | ${perCpu.toFixed(2)} | ${ref === undefined ? '–' : (perCpu / ref).toFixed(2)} |`)
}
