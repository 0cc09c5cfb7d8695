/**
 * bench/accuracy: tocdo against known emulated paths (see README.md beside this file).
 *
 *   npx tsx bench/accuracy/run.ts [--paths 40,100,200,1000] [--rtts 0,20,50] [--quick]
 *                                 [--out docs/accuracy.md]
 *                                 [--server-cmd CMD] [--client-cmd CMD] [--calibrate-cmd CMD]
 *   hard paths (issue 10, items 2, 5 and 6):
 *                                 [--hard] [--pairs 100/20,300/50] [--topology router|sender]
 *                                 [--queue-ms 400] [--loss 0,0.1,1] [--cc bbr,cubic] [--repeat 2]
 *
 * Every path is two namespaces joined by the TUN emulator (even at 0 ms, so
 * every row has the same 1500-byte IP accounting), shaped by tbf both ways.
 * Per path: ping, iperf3 -P 4 each way, then the tocdo server and agent.
 *
 * Hard mode (--hard, or any of --topology router, --queue-ms, --loss, --cc,
 * --pairs, --repeat): per path (rate/RTT × loss % × congestion control), ping
 * idle; iperf3 -P 4 each way with ping running; iperf3 -P 1 each way; tocdo
 * `--repeat` times (default 2) with ping running and the client's interface
 * counters polled, so the pings of its download and of its upload are told
 * apart; then iperf3 with tocdo's final stream count of its first test. The
 * table checks each target of issue 10 items 2, 5 and 6 (hard-table.ts).
 * --hard = --pairs 100/20,300/50,1000/20 --loss 0,0.1,1 --cc bbr,cubic
 *          --topology router --queue-ms 400 --repeat 2. Congestion control is set
 *          on both ends by a route to the peer (`congctl`; see setCongestionControl).
 * A tocdo command that fails leaves "tocdo: not available (reason)" in its
 * cells; no number is ever filled in for it.
 */
import { execFile } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, release } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildTunlink, cleanupStaleNamespaces, createLink, killTree } from '../../test/fixtures/netns.js'
import type { Link } from '../../test/fixtures/netns.js'
import { fixedTestBytes, renderHard } from './hard-table.js'
import type { HardPath, LoadedPing, Measured, RecordedLoad, TocdoRun } from './hard-table.js'
import { afterStart, narrowTo, phaseOf, startRecorder } from './under-load.js'
import type { Phase } from './under-load.js'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const PREFIX = 'tocdo-acc'
const PORT = 8080

const TARGET = {
  ratioLow: 0.97, // within ±3 % of the ceiling …
  ratioHigh: 1.01, // … and never more than 1 % above it
  latencyMs: 1, // |tocdo idle median − ping median|
  loopbackMbps: 10_000,
  rssBytes: 120e6, // 120 MB, decimal: the stricter reading
}

const DEFAULT_CMDS = {
  server: 'node dist/collector/cli.js --speedtest-only --host {addr} --port {port}',
  client: 'node dist/agent/cli.js test --server http://{addr}:{port} --json',
  calibrate: 'node dist/agent/cli.js calibrate --json',
}

interface Options {
  rates: number[];
  rtts: number[];
  quick: boolean;
  out?: string;
  cmds: typeof DEFAULT_CMDS;
  /** Hard mode: the table of hard-table.ts instead of the default one. */
  hard: boolean;
  /** Explicit rate/RTT pairs (hard mode); else every rate × every RTT. */
  pairs?: [number, number][];
  topology: 'router' | 'sender';
  queueMs?: number;
  /** Random loss per direction, percent. */
  lossPct: number[];
  /** Congestion control set in both end namespaces; empty: the host's default. */
  ccs: string[];
  repeat: number;
}

interface PathResult {
  rateMbit: number;
  rttMs: number;
  ceilingMbps: number;
  tbf: string;
  pingMedianMs: Measured;
  iperfDown: Measured;
  iperfUp: Measured;
  tocdoDown: Measured;
  tocdoUp: Measured;
  tocdoIdleMs: Measured;
  agentPeakRssBytes: Measured;
  /** The record's flags (comma-separated, '' when none) and confidence. */
  tocdoFlags: string;
  tocdoConfidence: string;
  /** Payload bytes and transfer seconds of the whole test, both directions. */
  tocdoBytes: Measured;
  tocdoSeconds: Measured;
  emulator: string;
  /** 1-minute load average when the path finished: other work on a 2-core machine skews 1 Gbit/s paths. */
  loadAvg1: number;
}

function parseArgs (argv: string[]): Options {
  const opts: Options = {
    rates: [40, 100, 200, 1000],
    rtts: [0, 20, 50],
    quick: false,
    cmds: { ...DEFAULT_CMDS },
    hard: false,
    topology: 'sender',
    lossPct: [0],
    ccs: [],
    repeat: 1,
  }
  let ratesSet = false
  let rttsSet = false
  let hardPreset = false
  const hardSet = new Set<string>()
  const list = (v: string | undefined, flag: string): number[] => {
    const nums = (v ?? '').split(',').filter(Boolean).map(Number)
    if (nums.length === 0 || nums.some((n) => !Number.isFinite(n) || n < 0)) throw new Error(`${flag}: expected a list like 40,100`)
    return nums
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${a} needs a value`)
      return v
    }
    switch (a) {
      case '--paths': opts.rates = list(next(), a); ratesSet = true; break
      case '--rtts': opts.rtts = list(next(), a); rttsSet = true; break
      case '--quick': opts.quick = true; break
      case '--out': opts.out = next(); break
      case '--server-cmd': opts.cmds.server = next(); break
      case '--client-cmd': opts.cmds.client = next(); break
      case '--calibrate-cmd': opts.cmds.calibrate = next(); break
      case '--hard': hardPreset = true; break
      case '--pairs': opts.pairs = next().split(',').filter(Boolean).map((pair) => {
        const [r, t, extra] = pair.split('/').map(Number)
        if (extra !== undefined || !(r! > 0) || !(t! >= 0)) throw new Error(`--pairs: expected RATE/RTT pairs like 100/20,300/50, got ${pair}`)
        return [r!, t!] as [number, number]
      }); hardSet.add(a); break
      case '--topology': {
        const v = next()
        if (v !== 'router' && v !== 'sender') throw new Error('--topology: router (tbf on a router namespace between the ends) or sender (tbf in each end\'s own egress)')
        opts.topology = v; hardSet.add(a); break
      }
      case '--queue-ms': opts.queueMs = Number(next()); if (!(opts.queueMs > 0)) throw new Error('--queue-ms: expected a number of ms > 0, e.g. 400'); hardSet.add(a); break
      case '--loss': opts.lossPct = list(next(), a); if (opts.lossPct.some((x) => x >= 100)) throw new Error('--loss: percent, below 100 (e.g. 0,0.1,1)'); hardSet.add(a); break
      case '--cc': opts.ccs = next().split(',').filter(Boolean); if (opts.ccs.length === 0 || opts.ccs.some((c) => !/^[a-z0-9_]+$/.test(c))) throw new Error('--cc: expected names like bbr,cubic'); hardSet.add(a); break
      case '--repeat': opts.repeat = Number(next()); if (!Number.isInteger(opts.repeat) || opts.repeat < 1) throw new Error('--repeat: expected an integer ≥ 1'); hardSet.add(a); break
      case '-h': case '--help':
        console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0])
        process.exit(0)
      // eslint-disable-next-line no-fallthrough
      default: throw new Error(`unknown option ${a}`)
    }
  }
  if (opts.quick) {
    // The two extremes that matter most: the slowest tier and the 1 Gbit/s RSS test, with and without delay.
    if (!ratesSet) opts.rates = [40, 1000]
    if (!rttsSet) opts.rtts = [0, 50]
  }
  if (opts.rates.some((r) => r <= 0)) throw new Error('--paths: rates must be > 0')
  if (hardPreset) {
    // The paths of issue 10: the defaults of --hard; any option given beside it wins.
    if (!hardSet.has('--pairs') && !ratesSet && !rttsSet) opts.pairs = [[100, 20], [300, 50], [1000, 20]]
    if (!hardSet.has('--loss')) opts.lossPct = [0, 0.1, 1]
    if (!hardSet.has('--cc')) opts.ccs = ['bbr', 'cubic']
    if (!hardSet.has('--topology')) opts.topology = 'router'
    if (!hardSet.has('--queue-ms')) opts.queueMs = 400
    if (!hardSet.has('--repeat')) opts.repeat = 2
  } else if (hardSet.size > 0 && !hardSet.has('--repeat')) {
    opts.repeat = 2
  }
  opts.hard = hardPreset || hardSet.size > 0
  if (opts.hard && opts.quick) throw new Error('--quick applies to the default table only; pick hard paths with --pairs, --loss and --cc')
  return opts
}

function run (cmd: string, args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, cwd: REPO_ROOT }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0
      resolve({ code, stdout, stderr: stderr || (err ? err.message : '') })
    })
  })
}

async function have (cmd: string): Promise<boolean> {
  return (await run('sh', ['-c', `command -v ${cmd}`])).code === 0
}

/** A fresh machine has none of these; install from Debian, updating the index only if needed. */
async function ensureTools (): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root: namespaces and tc need CAP_NET_ADMIN')
  const wanted: [string, string][] = [
    ['ip', 'iproute2'], ['tc', 'iproute2'], ['iperf3', 'iperf3'], ['ping', 'iputils-ping'],
    ['cc', 'gcc'], ['/usr/bin/time', 'time'], ['sysctl', 'procps'],
  ]
  const missing = new Set<string>()
  for (const [cmd, pkg] of wanted) if (!(await have(cmd))) missing.add(pkg)
  if (missing.size === 0) return
  if (!(await have('apt-get'))) throw new Error(`missing tools and no apt-get: ${[...missing].join(' ')}`)
  console.error(`installing: ${[...missing].join(' ')}`)
  const install = () => run('env', ['DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', ...missing], 600_000)
  let r = await install()
  if (r.code !== 0) {
    await run('apt-get', ['update', '-q'], 600_000)
    r = await install()
  }
  if (r.code !== 0) throw new Error(`apt-get install failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`)
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

// Reasons end up in a markdown table: one line, no '|', and no machine-specific repo path.
const fail = (reason: string): Measured => ({
  ok: false,
  reason: reason.replaceAll(REPO_ROOT, '').replace(/\s+/g, ' ').replaceAll('|', '/').trim().slice(0, 120),
})
const ok = (value: number): Measured => ({ ok: true, value })

async function pingMedian (link: Link, count: number): Promise<Measured> {
  try {
    const { stdout } = await link.exec(link.clientNs, 'ping', ['-n', '-c', String(count), '-i', '0.2', '-W', '2', link.serverAddr4])
    const times = [...stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]))
    return times.length > 0 ? ok(median(times)) : fail('ping: no replies')
  } catch (e) {
    return fail(`ping: ${(e as Error).message}`)
  }
}

async function iperf (link: Link, reverse: boolean, seconds: number, omit: number, streams = 4): Promise<Measured> {
  const args = ['-c', link.serverAddr4, '-p', '5201', '-P', String(streams), '-t', String(seconds), '-O', String(omit), '-J']
  if (reverse) args.push('-R')
  // The server may need a moment after a previous test; retry a bounded number of times.
  let last = ''
  for (let attempt = 0; attempt < 3; attempt++) {
    let stdout = ''
    try {
      stdout = (await link.exec(link.clientNs, 'iperf3', args, { timeoutMs: (seconds + omit + 30) * 1000 })).stdout
    } catch (e) {
      stdout = (e as { stdout?: string }).stdout ?? ''
      last = (e as Error).message
    }
    try {
      const j = JSON.parse(stdout) as { error?: string; end?: { sum_received?: { bits_per_second?: number } } }
      const bps = j.end?.sum_received?.bits_per_second
      if (typeof bps === 'number' && bps > 0) return ok(bps / 1e6)
      last = j.error ?? 'no sum_received'
    } catch {
      last ||= 'unparsable iperf3 output'
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  return fail(`iperf3: ${last}`)
}

function fill (template: string, addr: string): string {
  return template.replaceAll('{addr}', addr).replaceAll('{port}', String(PORT))
}

function tail (text: string): string {
  // Skip our RSS marker and GNU time's own exit-status line: the agent's words are the reason.
  const lines = text.trim().split('\n').filter((l) => l.trim() && !l.startsWith('TOCDO_BENCH_') && !l.startsWith('Command exited with'))
  const err = lines.find((l) => /Error|error:|ENOENT|not found/.test(l))
  return err ?? lines.at(-1) ?? 'no output'
}

/** Collect a child's output and wait for it to exit, bounded. */
function collect (child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout?.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    const timer = setTimeout(() => { timedOut = true; killTree(child, 'SIGKILL') }, timeoutMs)
    child.once('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr, timedOut }) })
  })
}

const LOG_DIR = join(REPO_ROOT, 'bench/accuracy/build/logs')

/** The tocdo processes' output, kept per path for diagnosing a "not available" cell. */
function saveLog (link: Link, what: string, text: string): void {
  mkdirSync(LOG_DIR, { recursive: true })
  writeFileSync(join(LOG_DIR, `${link.rateMbit}mbit-${link.rttMs}ms-${what}.log`), text)
}

const RECORD_DIR = join(REPO_ROOT, 'bench/accuracy/build/records')

/**
 * Each hard-path tocdo record, whole (100 ms samples, stream counts, server view), so a change
 * to the warm-up, ramp or stop rules can first be replayed on the series real paths gave.
 */
function saveRecord (spec: HardSpec, n: number, rec: Record<string, unknown>): void {
  mkdirSync(RECORD_DIR, { recursive: true })
  const name = `${spec.rateMbit}-${spec.rttMs}-loss${spec.lossPct}-${spec.cc || 'default'}-${n}.json`
  writeFileSync(join(RECORD_DIR, name), JSON.stringify(rec))
}

async function waitListening (link: Link, server: ChildProcess, stderrOf: () => string): Promise<string | undefined> {
  for (let i = 0; i < 150; i++) {
    if (server.exitCode !== null || server.signalCode !== null) return `server exited: ${tail(stderrOf())}`
    const { stdout } = await link.exec(link.serverNs, 'ss', ['-Hltn', `sport = :${PORT}`]).catch(() => ({ stdout: '' }))
    if (stdout.trim()) return undefined
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return `server not listening on :${PORT} after 15 s: ${tail(stderrOf())}`
}

function parseRecord (stdout: string): Record<string, unknown> | undefined {
  const text = stdout.trim()
  const candidates = [text, ...text.split('\n').reverse().filter((l) => l.trim().startsWith('{'))]
  const first = text.indexOf('{')
  if (first >= 0) candidates.push(text.slice(first, text.lastIndexOf('}') + 1))
  for (const c of candidates) {
    try {
      const v = JSON.parse(c) as unknown
      if (v && typeof v === 'object') return v as Record<string, unknown>
    } catch {
      // try the next shape
    }
  }
  return undefined
}

/** First numeric field found among the paths; the issue names the first, methodology.md §15 the rest. */
function pick (rec: Record<string, unknown>, ...paths: string[]): Measured {
  for (const p of paths) {
    let v: unknown = rec
    for (const k of p.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined
    if (typeof v === 'number' && Number.isFinite(v)) return ok(v)
  }
  return fail(`no ${paths[0]} in the agent's JSON`)
}

type TocdoPart = Pick<PathResult, 'tocdoDown' | 'tocdoUp' | 'tocdoIdleMs' | 'agentPeakRssBytes' | 'tocdoFlags' | 'tocdoConfidence' | 'tocdoBytes' | 'tocdoSeconds'> & {
  /** The agent's record, when it printed one. */
  rec?: Record<string, unknown>;
}

async function tocdo (link: Link, opts: Options): Promise<TocdoPart> {
  const na = (reason: string): TocdoPart => ({ tocdoDown: fail(reason), tocdoUp: fail(reason), tocdoIdleMs: fail(reason), agentPeakRssBytes: fail(reason), tocdoFlags: '–', tocdoConfidence: '–', tocdoBytes: fail(reason), tocdoSeconds: fail(reason) })
  let serverErr = ''
  const server = link.spawn(link.serverNs, 'sh', ['-c', `exec ${fill(opts.cmds.server, link.serverAddr4)}`], { cwd: REPO_ROOT })
  server.stdout?.resume()
  server.stderr?.setEncoding('utf8').on('data', (d: string) => { serverErr = (serverErr + d).slice(-8192) })
  try {
    const notUp = await waitListening(link, server, () => serverErr)
    if (notUp) return na(notUp)
    // GNU time reports the agent's peak RSS (ru_maxrss, the same figure as VmHWM) after it exits.
    const client = link.spawn(
      link.clientNs,
      '/usr/bin/time',
      ['-f', 'TOCDO_BENCH_MAXRSS_KB=%M', 'sh', '-c', `exec ${fill(opts.cmds.client, link.serverAddr4)}`],
      { cwd: REPO_ROOT }
    )
    // The agent's sequence is ~35–45 s per direction at most (methodology.md §4); 150 s means it is stuck.
    const r = await collect(client, 150_000)
    saveLog(link, 'agent', `${r.stderr}\n--- stdout ---\n${r.stdout}`)
    const rssKb = /TOCDO_BENCH_MAXRSS_KB=(\d+)/.exec(r.stderr)?.[1]
    const rss = rssKb ? ok(Number(rssKb) * 1024) : fail('no RSS reported')
    if (r.timedOut) return { ...na(`agent did not finish within 150 s: ${tail(r.stderr)}`), agentPeakRssBytes: rss }
    const rec = parseRecord(r.stdout)
    if (!rec) {
      const why = r.code !== 0 ? `agent exited ${r.code}: ${tail(r.stderr || r.stdout)}` : 'agent printed no JSON record'
      return { ...na(why), agentPeakRssBytes: rss }
    }
    // A failed record can still carry real figures (e.g. idle latency); show those, and the agent's own error for the rest.
    const err = rec['error'] as { code?: unknown; detail?: unknown } | null | undefined
    const why = err ? `agent: ${String(err.code ?? '')} ${String(err.detail ?? '')}` : r.code !== 0 ? `agent exited ${r.code}` : undefined
    const field = (...paths: string[]): Measured => {
      const m = pick(rec, ...paths)
      return !m.ok && why ? fail(why) : m
    }
    return {
      rec,
      tocdoDown: field('download.mbps', 'download.goodputMbps'),
      tocdoUp: field('upload.mbps', 'upload.goodputMbps'),
      tocdoIdleMs: field('latency.idle.medianMs', 'idle.medianMs'),
      agentPeakRssBytes: rss,
      tocdoFlags: Array.isArray(rec['flags']) ? (rec['flags'] as unknown[]).map(String).join(', ') : '–',
      tocdoConfidence: typeof rec['confidence'] === 'string' ? rec['confidence'] : '–',
      tocdoBytes: sumOf(field('download.bytes'), field('upload.bytes')),
      tocdoSeconds: sumOf(field('download.durationS'), field('upload.durationS')),
    }
  } finally {
    killTree(server, 'SIGTERM')
    saveLog(link, 'server', serverErr)
  }
}

async function measurePath (rateMbit: number, rttMs: number, opts: Options): Promise<PathResult> {
  const link = await createLink({ rateMbit, rttMs, via: 'tun', prefix: PREFIX })
  let result: Omit<PathResult, 'emulator' | 'loadAvg1'>
  try {
    const iperfServer = link.spawn(link.serverNs, 'iperf3', ['-s', '-B', link.serverAddr4, '-p', '5201'])
    iperfServer.stdout?.resume()
    iperfServer.stderr?.resume()
    await new Promise((resolve) => setTimeout(resolve, 300))
    const seconds = opts.quick ? 5 : 8
    const omit = opts.quick ? 1 : 2
    // Ping first, while the link is idle.
    const pingMedianMs = await pingMedian(link, opts.quick ? 10 : 20)
    const iperfDown = await iperf(link, true, seconds, omit)
    const iperfUp = await iperf(link, false, seconds, omit)
    killTree(iperfServer, 'SIGTERM')
    const t = await tocdo(link, opts)
    result = {
      rateMbit,
      rttMs,
      ceilingMbps: link.goodputCeilingMbps!,
      tbf: `burst ${link.tbf!.burstBytes} B, latency ${link.tbf!.latencyMs} ms`,
      pingMedianMs,
      iperfDown,
      iperfUp,
      ...t,
    }
  } finally {
    await link.destroy()
  }
  // The emulator's counters go with the row: drops there would mean the harness, not tocdo, limited the path.
  return { ...result, emulator: link.emulatorStats().replaceAll('\n', '; '), loadAvg1: loadavg()[0] ?? 0 }
}

// ---------- hard paths (issue 10, items 2, 5 and 6) ----------

interface HardSpec { rateMbit: number; rttMs: number; lossPct: number; cc: string }

function hardSpecs (opts: Options): HardSpec[] {
  const pairs = opts.pairs ?? opts.rates.flatMap((r) => opts.rtts.map((t) => [r, t] as [number, number]))
  const ccs = opts.ccs.length > 0 ? opts.ccs : ['']
  return pairs.flatMap(([rateMbit, rttMs]) => opts.lossPct.flatMap((lossPct) => ccs.map((cc) => ({ rateMbit, rttMs, lossPct, cc }))))
}

/** Load each congestion control's module if the kernel does not list it yet (tcp_bbr is a module on Debian). */
async function ensureCongestionControls (ccs: string[]): Promise<void> {
  const available = () => readFileSync('/proc/sys/net/ipv4/tcp_available_congestion_control', 'utf8').trim().split(/\s+/)
  for (const cc of ccs) {
    if (available().includes(cc)) continue
    await run('modprobe', [`tcp_${cc}`])
    if (!available().includes(cc)) throw new Error(`--cc ${cc}: not available in this kernel (modprobe tcp_${cc} failed); available: ${available().join(' ')}`)
  }
}

/**
 * A namespace's default congestion control can be set only to an algorithm the
 * host lists in net.ipv4.tcp_allowed_congestion_control (EPERM otherwise, e.g.
 * cubic where the host allows "reno bbr"). A route's `congctl` has no such
 * limit and changes nothing outside the namespace: a /32 route to the peer,
 * through the same next hop, carries it, so every connection of the test
 * (tocdo's, iperf3's) uses it. Checked on a live socket with `ss -ti`.
 */
async function setCongestionControl (link: Link, ns: string, peer: string, cc: string): Promise<void> {
  const { stdout } = await link.exec(ns, 'ip', ['-4', 'route', 'get', peer])
  const via = /\bvia (\S+)/.exec(stdout)?.[1]
  const dev = /\bdev (\S+)/.exec(stdout)?.[1] ?? link.device
  await link.exec(ns, 'ip', ['route', 'replace', `${peer}/32`, ...(via ? ['via', via] : []), 'dev', dev, 'congctl', cc])
}

const median0 = (xs: number[]): Measured => (xs.length > 0 ? ok(median(xs)) : fail('no echo replies in the loaded phase'))

function loadedPing (phase: Phase | undefined, streams: number): LoadedPing | undefined {
  if (!phase) return undefined
  return { medianMs: median0(phase.pingsMs), n: phase.pingsMs.length, streams, wireMbps: phase.wireMbps }
}

/** Final stream count of a direction in the record: the ramp's last sample, else streamsMax. */
function finalStreams (rec: Record<string, unknown> | undefined, dir: 'download' | 'upload'): number | undefined {
  const d = rec?.[dir] as { streamsMax?: unknown; samples?: { streams?: unknown } } | null | undefined
  const ramp = Array.isArray(d?.samples?.streams) ? (d.samples.streams as unknown[]).filter((x): x is number => typeof x === 'number' && x > 0) : []
  if (ramp.length > 0) return ramp[ramp.length - 1]
  return typeof d?.streamsMax === 'number' ? d.streamsMax : undefined
}

async function iperfUnderPing (link: Link, reverse: boolean, seconds: number, omit: number, streams: number): Promise<{ m: Measured; ping?: LoadedPing }> {
  const rec = startRecorder(link)
  const m = await iperf(link, reverse, seconds, omit, streams)
  const { pings, counters } = await rec.stop()
  return { m, ping: loadedPing(afterStart(counters, pings, reverse ? 'down' : 'up', omit), streams) }
}

async function tocdoRun (link: Link, opts: Options): Promise<{ run: TocdoRun; rec?: Record<string, unknown> }> {
  const recorder = startRecorder(link)
  const t = await tocdo(link, opts)
  const { pings, counters } = await recorder.stop()
  const streamsDown = finalStreams(t.rec, 'download')
  const streamsUp = finalStreams(t.rec, 'upload')
  const loadedMs = (dir: 'download' | 'upload'): Measured => t.rec ? pick(t.rec, `${dir}.loaded.medianMs`) : t.tocdoDown
  const loadOf = (dir: 'download' | 'upload'): RecordedLoad | undefined => {
    const l = ((t.rec?.[dir] as Record<string, unknown> | null | undefined)?.loaded as Record<string, unknown> | null | undefined)?.load as RecordedLoad | undefined
    return l && typeof l.streamsMax === 'number' ? l : undefined
  }
  const [loadDown, loadUp] = [loadOf('download'), loadOf('upload')]
  // Ping over the span of tocdo's own probes (under-load.ts, narrowTo): the same load.
  const spanOf = (l: RecordedLoad | undefined): { fromS: number; toS: number } | undefined =>
    typeof l?.fromS === 'number' && typeof l.toS === 'number' ? { fromS: l.fromS, toS: l.toS } : undefined
  const pingDown = loadedPing(narrowTo(phaseOf(counters, pings, 'down'), spanOf(loadDown)), streamsDown ?? 0)
  const pingUp = loadedPing(narrowTo(phaseOf(counters, pings, 'up'), spanOf(loadUp)), streamsUp ?? 0)
  return {
    rec: t.rec,
    run: {
      down: t.tocdoDown,
      up: t.tocdoUp,
      idleMs: t.tocdoIdleMs,
      loadedDownMs: loadedMs('download'),
      loadedUpMs: loadedMs('upload'),
      ...(loadDown ? { loadDown } : {}),
      ...(loadUp ? { loadUp } : {}),
      ...(streamsDown !== undefined ? { streamsDown } : {}),
      ...(streamsUp !== undefined ? { streamsUp } : {}),
      flags: t.tocdoFlags,
      confidence: t.tocdoConfidence,
      bytes: t.tocdoBytes,
      seconds: t.tocdoSeconds,
      ...(pingDown ? { pingDown } : {}),
      ...(pingUp ? { pingUp } : {}),
    },
  }
}

async function measureHardPath (spec: HardSpec, opts: Options, log: (s: string) => void): Promise<HardPath> {
  const link = await createLink({
    rateMbit: spec.rateMbit,
    rttMs: spec.rttMs,
    loss: spec.lossPct / 100,
    via: 'tun',
    prefix: PREFIX,
    topology: opts.topology === 'router' ? 'router' : 'direct',
    ...(opts.queueMs !== undefined ? { queueMs: opts.queueMs } : {}),
  })
  let result: Omit<HardPath, 'emulator' | 'loadAvg1'>
  try {
    // Both ends send (download and upload), so both get the congestion control.
    let cc = spec.cc
    if (cc) {
      await setCongestionControl(link, link.serverNs, link.clientAddr4, cc)
      await setCongestionControl(link, link.clientNs, link.serverAddr4, cc)
    } else {
      cc = (await link.exec(link.clientNs, 'sysctl', ['-n', 'net.ipv4.tcp_congestion_control'])).stdout.trim()
    }
    const iperfServer = link.spawn(link.serverNs, 'iperf3', ['-s', '-B', link.serverAddr4, '-p', '5201'])
    iperfServer.stdout?.resume()
    iperfServer.stderr?.resume()
    await new Promise((resolve) => setTimeout(resolve, 300))
    const seconds = 8
    const omit = 2
    const pingIdleMs = await pingMedian(link, 20)
    const i4d = await iperfUnderPing(link, true, seconds, omit, 4)
    const i4u = await iperfUnderPing(link, false, seconds, omit, 4)
    const iperf1Down = await iperf(link, true, seconds, omit, 1)
    const iperf1Up = await iperf(link, false, seconds, omit, 1)
    log(`  iperf3 -P 4 ${cell(i4d.m)}/${cell(i4u.m)}  -P 1 ${cell(iperf1Down)}/${cell(iperf1Up)}  ping idle ${cell(pingIdleMs, (x) => x.toFixed(2))} ms`)
    const runs: TocdoRun[] = []
    let first: Record<string, unknown> | undefined
    for (let i = 0; i < opts.repeat; i++) {
      const r = await tocdoRun(link, opts)
      if (i === 0) first = r.rec
      if (r.rec) saveRecord(spec, i + 1, r.rec)
      runs.push(r.run)
      log(`  tocdo #${i + 1} ${tcell(r.run.down)} / ${tcell(r.run.up)}  streams ${r.run.streamsDown ?? '?'}/${r.run.streamsUp ?? '?'}  loaded ${cell(r.run.loadedDownMs)}/${cell(r.run.loadedUpMs)} ms  ping under it ${r.run.pingDown ? cell(r.run.pingDown.medianMs) : 'n/a'}/${r.run.pingUp ? cell(r.run.pingUp.medianMs) : 'n/a'} ms  flags ${r.run.flags || 'none'} (${r.run.confidence})`)
    }
    const nDown = finalStreams(first, 'download')
    const nUp = finalStreams(first, 'upload')
    const iperfNDown = nDown ? await iperf(link, true, seconds, omit, nDown) : fail('tocdo gave no stream count')
    const iperfNUp = nUp ? await iperf(link, false, seconds, omit, nUp) : fail('tocdo gave no stream count')
    log(`  iperf3 -P ${nDown ?? '?'}/${nUp ?? '?'} ${cell(iperfNDown)}/${cell(iperfNUp)}`)
    killTree(iperfServer, 'SIGTERM')
    result = {
      rateMbit: spec.rateMbit,
      rttMs: spec.rttMs,
      lossPct: spec.lossPct,
      cc,
      topology: link.topology === 'router' ? 'router' : 'sender',
      queueMs: link.tbf!.latencyMs,
      ceilingMbps: link.goodputCeilingMbps!,
      pingIdleMs,
      iperf4Down: i4d.m,
      iperf4Up: i4u.m,
      iperf1Down,
      iperf1Up,
      iperfNDown,
      iperfNUp,
      ...(nDown !== undefined ? { nDown } : {}),
      ...(nUp !== undefined ? { nUp } : {}),
      ...(i4d.ping ? { pingIperf4Down: i4d.ping } : {}),
      ...(i4u.ping ? { pingIperf4Up: i4u.ping } : {}),
      runs,
    }
  } finally {
    await link.destroy()
  }
  return { ...result, emulator: link.emulatorStats().replaceAll('\n', '; '), loadAvg1: loadavg()[0] ?? 0 }
}

async function mainHard (opts: Options): Promise<void> {
  await ensureCongestionControls(opts.ccs)
  const meta = await machineMeta(opts)
  const specs = hardSpecs(opts)
  const started = Date.now()
  const paths: HardPath[] = []
  const log = (s: string) => console.error(s)
  for (const spec of specs) {
    log(`[${((Date.now() - started) / 1000).toFixed(0)} s] path ${spec.rateMbit} Mbit/s, ${spec.rttMs} ms, ${spec.lossPct} % loss, ${spec.cc || 'default cc'}, ${opts.topology}`)
    paths.push(await measureHardPath(spec, opts, log))
  }
  const { text, pass } = renderHard(paths)
  const full = [
    text,
    '',
    ...meta.map((m) => `- ${m}`),
    `- tbf ${opts.topology === 'router' ? 'on the router namespace\'s two egress devices (server — TUN emulator — router — veth — client)' : 'on each end\'s own egress'}; iperf3 8 s after 2 s omitted; ping every 100 ms under load`,
    `- Commands: server \`${opts.cmds.server}\`, client \`${opts.cmds.client}\``,
  ].join('\n')
  console.log(full)
  if (opts.out) {
    const out = resolve(opts.out)
    writeFileSync(out, updateDoc(out, full, 'accuracy-hard'))
    console.error(`table written to ${opts.out}`)
  }
  process.exitCode = pass ? 0 : 1
}

async function calibrate (opts: Options): Promise<Measured> {
  // A namespace of its own, so "loopback" is a private lo and nothing else is reachable.
  const link = await createLink({ via: 'veth', ipv6: true, prefix: PREFIX })
  try {
    const child = link.spawn(link.clientNs, 'sh', ['-c', `exec ${opts.cmds.calibrate}`], { cwd: REPO_ROOT })
    const r = await collect(child, 180_000)
    if (r.timedOut) return fail('calibrate did not finish within 180 s')
    if (r.code !== 0) return fail(`calibrate exited ${r.code}: ${tail(r.stderr || r.stdout)}`)
    const rec = parseRecord(r.stdout)
    return rec ? pick(rec, 'loopbackDownloadMbps') : fail('calibrate printed no JSON')
  } finally {
    await link.destroy()
  }
}

// ---------- report ----------

const f1 = (x: number) => x.toFixed(1)
const na = (m: Measured & { ok: false }) => `tocdo: not available (${m.reason})`
const cell = (m: Measured, fmt: (x: number) => string = f1) => (m.ok ? fmt(m.value) : `failed (${m.reason})`)
const tcell = (m: Measured, fmt: (x: number) => string = f1) => (m.ok ? fmt(m.value) : na(m))
const ratio = (m: Measured, ceiling: number) => (m.ok ? (m.value / ceiling).toFixed(3) : '–')
const sumOf = (a: Measured, b: Measured): Measured => a.ok && b.ok ? ok(a.value + b.value) : !a.ok ? a : b

const inTarget = (m: Measured, ceiling: number) => m.ok && m.value / ceiling >= TARGET.ratioLow && m.value / ceiling <= TARGET.ratioHigh

function verdict (r: PathResult): string {
  const problems: string[] = []
  if (!r.tocdoDown.ok || !r.tocdoUp.ok || !r.tocdoIdleMs.ok || !r.pingMedianMs.ok) problems.push('not measured')
  if (r.tocdoDown.ok && !inTarget(r.tocdoDown, r.ceilingMbps)) problems.push('down')
  if (r.tocdoUp.ok && !inTarget(r.tocdoUp, r.ceilingMbps)) problems.push('up')
  if (r.tocdoIdleMs.ok && r.pingMedianMs.ok && Math.abs(r.tocdoIdleMs.value - r.pingMedianMs.value) > TARGET.latencyMs) problems.push('latency')
  return problems.length === 0 ? 'pass' : `FAIL (${problems.join(', ')})`
}

function render (results: PathResult[], loop: Measured, meta: string[], opts: Options): { text: string; pass: boolean } {
  const lines: string[] = []
  lines.push('| Path | Goodput ceiling | iperf3 down | ratio | iperf3 up | ratio | tocdo down | ratio | tocdo up | ratio | ping median | tocdo idle | Δ | Result |')
  lines.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|')
  for (const r of results) {
    const delta = r.tocdoIdleMs.ok && r.pingMedianMs.ok ? (r.tocdoIdleMs.value - r.pingMedianMs.value).toFixed(2) : '–'
    lines.push(
      `| ${r.rateMbit} Mbit/s, ${r.rttMs} ms | ${f1(r.ceilingMbps)} | ${cell(r.iperfDown)} | ${ratio(r.iperfDown, r.ceilingMbps)} | ` +
        `${cell(r.iperfUp)} | ${ratio(r.iperfUp, r.ceilingMbps)} | ${tcell(r.tocdoDown)} | ${ratio(r.tocdoDown, r.ceilingMbps)} | ` +
        `${tcell(r.tocdoUp)} | ${ratio(r.tocdoUp, r.ceilingMbps)} | ${cell(r.pingMedianMs, (x) => x.toFixed(2))} | ` +
        `${tcell(r.tocdoIdleMs, (x) => x.toFixed(2))} | ${delta} | ${verdict(r)} |`
    )
  }
  lines.push('')
  lines.push('| Path | tocdo flags | confidence | bytes per test (MB) | seconds of transfer | ÷ fixed 10 s-per-direction test at the ceiling | bytes a day at 6 tests (GB) |')
  lines.push('|---|---|---|--:|--:|--:|--:|')
  for (const r of results) {
    const share = r.tocdoBytes.ok ? (r.tocdoBytes.value / fixedTestBytes(r.ceilingMbps)).toFixed(2) : '–'
    lines.push(`| ${r.rateMbit} Mbit/s, ${r.rttMs} ms | ${r.tocdoFlags === '' ? 'none' : r.tocdoFlags} | ${r.tocdoConfidence} | ${cell(r.tocdoBytes, (x) => (x / 1e6).toFixed(0))} | ${cell(r.tocdoSeconds, (x) => x.toFixed(1))} | ${share} | ${cell(r.tocdoBytes, (x) => (x * 6 / 1e9).toFixed(2))} |`)
  }
  const gig = results.filter((r) => r.rateMbit === 1000)
  const rssVals = gig.map((r) => r.agentPeakRssBytes).filter((m): m is { ok: true; value: number } => m.ok)
  const rss: Measured = gig.length === 0
    ? fail('no 1000 Mbit/s path in this run')
    : rssVals.length > 0 ? ok(Math.max(...rssVals.map((m) => m.value))) : gig[0]!.agentPeakRssBytes
  const loopPass = loop.ok && loop.value >= TARGET.loopbackMbps
  const rssPass = rss.ok && rss.value <= TARGET.rssBytes
  lines.push('')
  lines.push(`- Loopback download ceiling (agent \`calibrate\`): ${loop.ok ? `${f1(loop.value)} Mbit/s — ${loopPass ? 'pass' : 'FAIL'} (target ≥ ${TARGET.loopbackMbps} Mbit/s)` : na(loop)}`)
  lines.push(`- Agent peak RSS during the 1 Gbit/s test${gig.length > 1 ? 's (max)' : ''}: ${rss.ok ? `${(rss.value / 1e6).toFixed(1)} MB — ${rssPass ? 'pass' : 'FAIL'} (target ≤ 120 MB)` : rss.reason.startsWith('no 1000') ? `not measured (${rss.reason})` : na(rss)}`)
  const iperfLow = results.filter((r) => [r.iperfDown, r.iperfUp].some((m) => !m.ok || m.value / r.ceilingMbps < TARGET.ratioLow))
  lines.push(`- Harness check (iperf3 within 3 % of the ceiling on every path): ${iperfLow.length === 0 ? 'pass' : `FAIL on ${iperfLow.map((r) => `${r.rateMbit}/${r.rttMs}`).join(', ')}: treat tocdo's figures there with suspicion`}`)
  lines.push('')
  lines.push('Targets: tocdo goodput ÷ ceiling in [0.97, 1.01] in both directions; |tocdo idle median − ping median| ≤ 1 ms.')
  lines.push('Ceiling = tbf rate × 1448 / 1500 (full-size TCP segments with timestamps in 1500-byte IP packets).')
  lines.push('')
  lines.push('Emulated paths (tbf per direction; tunlink drops should be 0):')
  lines.push('')
  for (const r of results) lines.push(`- ${r.rateMbit} Mbit/s, ${r.rttMs} ms: tbf ${r.tbf}; load average ${r.loadAvg1.toFixed(1)}; ${r.emulator || 'no tunlink counters'}`)
  lines.push('')
  for (const m of meta) lines.push(`- ${m}`)
  lines.push(`- Commands: server \`${opts.cmds.server}\`, client \`${opts.cmds.client}\`, calibrate \`${opts.cmds.calibrate}\``)
  const pass = results.every((r) => verdict(r) === 'pass') && loopPass && (gig.length === 0 || rssPass)
  return { text: lines.join('\n'), pass }
}

async function machineMeta (opts: Options): Promise<string[]> {
  const cc = readFileSync('/proc/sys/net/ipv4/tcp_congestion_control', 'utf8').trim()
  const iperfV = (await run('iperf3', ['--version'])).stdout.split('\n')[0]?.trim() ?? '?'
  const nodeV = process.version
  return [
    `Run: ${new Date().toISOString()}${opts.quick ? ' (--quick)' : ''}; Linux ${release()}; ${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    opts.hard
      ? `TCP congestion control: ${opts.ccs.length > 0 ? `${opts.ccs.join(', ')} per path, on both ends (a route to the peer with congctl)` : `${cc} (namespaces inherit it)`}; ${iperfV}; Node ${nodeV}`
      : `TCP congestion control (namespaces inherit it): ${cc}; ${iperfV}, -P 4, ${opts.quick ? '5' : '8'} s after ${opts.quick ? '1' : '2'} s omitted; Node ${nodeV}`,
  ]
}

async function main (): Promise<void> {
  const opts = parseArgs(process.argv.slice(2))
  await ensureTools()
  await buildTunlink()
  const stale = await cleanupStaleNamespaces(PREFIX)
  if (stale.length > 0) console.error(`removed stale namespaces: ${stale.join(' ')}`)

  if (opts.hard) return mainHard(opts)
  const meta = await machineMeta(opts)
  const results: PathResult[] = []
  const started = Date.now()
  for (const rate of opts.rates) {
    for (const rtt of opts.rtts) {
      console.error(`[${((Date.now() - started) / 1000).toFixed(0)} s] path ${rate} Mbit/s, ${rtt} ms RTT`)
      const r = await measurePath(rate, rtt, opts)
      results.push(r)
      console.error(
        `  ceiling ${f1(r.ceilingMbps)}  iperf3 ${cell(r.iperfDown)}/${cell(r.iperfUp)}  ping ${cell(r.pingMedianMs, (x) => x.toFixed(2))} ms  ` +
          `tocdo ${tcell(r.tocdoDown)} / ${tcell(r.tocdoUp)}`
      )
    }
  }
  console.error('loopback calibration')
  const loop = await calibrate(opts)
  const { text, pass } = render(results, loop, meta, opts)
  console.log(text)
  if (opts.out) {
    const out = resolve(opts.out)
    writeFileSync(out, updateDoc(out, text))
    console.error(`table written to ${opts.out}`)
  }
  process.exitCode = pass ? 0 : 1
}

/** Replace the generated block of an existing doc, so its hand-written text survives a re-run. */
function updateDoc (path: string, table: string, marker = 'accuracy'): string {
  const begin = `<!-- ${marker}:begin (generated by bench/accuracy/run.ts) -->`
  const end = `<!-- ${marker}:end -->`
  let doc = ''
  try {
    doc = readFileSync(path, 'utf8')
  } catch {
    // new file
  }
  const block = `${begin}\n${table}\n${end}`
  // The last block: the markers may also be quoted in the document's prose, and earlier tables kept.
  const i = doc.lastIndexOf(begin)
  const j = i < 0 ? -1 : doc.indexOf(end, i)
  if (i >= 0 && j > i) return doc.slice(0, i) + block + doc.slice(j + end.length)
  return doc ? `${doc.trimEnd()}\n\n${block}\n` : `# Accuracy\n\n${block}\n`
}

// Namespaces are removed by the helper's exit hook too; a signal must reach it as a normal exit.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    console.error(`${sig}: cleaning up`)
    process.exit(130)
  })
}

main().catch((e: unknown) => {
  console.error(`bench/accuracy: ${(e as Error).message}`)
  process.exitCode = 2
})
