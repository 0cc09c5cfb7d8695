/**
 * bench/accuracy: tocdo against known emulated paths (see README.md beside this file).
 *
 *   npx tsx bench/accuracy/run.ts [--paths 40,100,200,1000] [--rtts 0,20,50] [--quick]
 *                                 [--out docs/accuracy.md]
 *                                 [--server-cmd CMD] [--client-cmd CMD] [--calibrate-cmd CMD]
 *
 * Every path is two namespaces joined by the TUN emulator (even at 0 ms, so
 * every row has the same 1500-byte IP accounting), shaped by tbf both ways.
 * Per path: ping, iperf3 -P 4 each way, then the tocdo server and agent.
 * A tocdo command that fails leaves "tocdo: not available (reason)" in its
 * cells; no number is ever filled in for it.
 */
import { execFile } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, release } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildTunlink, cleanupStaleNamespaces, createLink, killTree } from '../../test/fixtures/netns.js'
import type { Link } from '../../test/fixtures/netns.js'

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
}

type Measured = { ok: true; value: number } | { ok: false; reason: string }

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
  const opts: Options = { rates: [40, 100, 200, 1000], rtts: [0, 20, 50], quick: false, cmds: { ...DEFAULT_CMDS } }
  let ratesSet = false
  let rttsSet = false
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

async function iperf (link: Link, reverse: boolean, seconds: number, omit: number): Promise<Measured> {
  const args = ['-c', link.serverAddr4, '-p', '5201', '-P', '4', '-t', String(seconds), '-O', String(omit), '-J']
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

type TocdoPart = Pick<PathResult, 'tocdoDown' | 'tocdoUp' | 'tocdoIdleMs' | 'agentPeakRssBytes' | 'tocdoFlags' | 'tocdoConfidence' | 'tocdoBytes' | 'tocdoSeconds'>

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

/** Bytes of a fixed test at the goodput ceiling, 10 s per direction (the comparison issue 10 asks for). */
const fixedTestBytes = (ceilingMbps: number): number => ceilingMbps * 1e6 / 8 * 10 * 2

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
    `TCP congestion control (namespaces inherit it): ${cc}; ${iperfV}, -P 4, ${opts.quick ? '5' : '8'} s after ${opts.quick ? '1' : '2'} s omitted; Node ${nodeV}`,
  ]
}

async function main (): Promise<void> {
  const opts = parseArgs(process.argv.slice(2))
  await ensureTools()
  await buildTunlink()
  const stale = await cleanupStaleNamespaces(PREFIX)
  if (stale.length > 0) console.error(`removed stale namespaces: ${stale.join(' ')}`)

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
    const out = join(process.cwd(), opts.out)
    writeFileSync(out, updateDoc(out, text))
    console.error(`table written to ${opts.out}`)
  }
  process.exitCode = pass ? 0 : 1
}

/** Replace the generated block of an existing doc, so its hand-written text survives a re-run. */
function updateDoc (path: string, table: string): string {
  const begin = '<!-- accuracy:begin (generated by bench/accuracy/run.ts) -->'
  const end = '<!-- accuracy:end -->'
  let doc = ''
  try {
    doc = readFileSync(path, 'utf8')
  } catch {
    // new file
  }
  const block = `${begin}\n${table}\n${end}`
  const i = doc.indexOf(begin)
  const j = doc.indexOf(end)
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
