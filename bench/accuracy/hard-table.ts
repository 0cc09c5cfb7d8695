/**
 * The hard-path table of bench/accuracy (issue 10, items 2, 5 and 6): what was
 * measured on one path, the targets checked against it, and the markdown.
 * Pure: run.ts measures, this file judges and prints.
 */

export type Measured = { ok: true; value: number } | { ok: false; reason: string }

/** Ping under one load: median of the echoes, how many, and the load (streams, wire rate). */
export interface LoadedPing {
  medianMs: Measured;
  n: number;
  streams: number;
  wireMbps: number;
}

/** The `loaded.load` block of a tocdo record: streams open and payload goodput while the probes ran. */
export interface RecordedLoad {
  streamsMin: number;
  streamsMax: number;
  mbps: number | null;
  /** The probes' span, seconds from the direction's first stream. */
  fromS?: number;
  toS?: number;
}

export interface TocdoRun {
  down: Measured;
  up: Measured;
  idleMs: Measured;
  /** Median of tocdo's own loaded-latency probes per direction. */
  loadedDownMs: Measured;
  loadedUpMs: Measured;
  /** The load tocdo's record states for its loaded-latency probes (`loaded.load`, schema 1.4). */
  loadDown?: RecordedLoad;
  loadUp?: RecordedLoad;
  /** Final stream count of each direction (last sample of the ramp, else streamsMax). */
  streamsDown?: number;
  streamsUp?: number;
  flags: string;
  confidence: string;
  bytes: Measured;
  seconds: Measured;
  pingDown?: LoadedPing;
  pingUp?: LoadedPing;
}

export interface HardPath {
  rateMbit: number;
  rttMs: number;
  lossPct: number;
  cc: string;
  topology: string;
  queueMs: number;
  ceilingMbps: number;
  pingIdleMs: Measured;
  iperf4Down: Measured;
  iperf4Up: Measured;
  iperf1Down: Measured;
  iperf1Up: Measured;
  /** iperf3 with tocdo's final stream count of its first run, per direction. */
  iperfNDown: Measured;
  iperfNUp: Measured;
  nDown?: number;
  nUp?: number;
  pingIperf4Down?: LoadedPing;
  pingIperf4Up?: LoadedPing;
  runs: TocdoRun[];
  emulator: string;
  loadAvg1: number;
}

export const HARD_TARGET = {
  ceilingHigh: 1.01, // headline ≤ ceiling (1 % for tbf's token burst, as the default table)
  belowIperf4: 0.95, // not more than 5 % below iperf3 -P 4
  vsIperfN: 0.10, // within ±10 % of iperf3 with tocdo's stream count
  repeat: 0.10, // two tests in a row: larger ÷ smaller ≤ 1.10
  loadedLatency: 0.15, // |tocdo loaded − ping under tocdo's load| ≤ 15 % of the ping
  idleMs: 1, // |tocdo idle − ping idle| ≤ 1 ms
  bytesShare: 0.60, // ≤ 60 % of a fixed 10 s-per-direction test at the ceiling
}

/** Bytes of a fixed test at the goodput ceiling, 10 s per direction. */
export const fixedTestBytes = (ceilingMbps: number): number => ceilingMbps * 1e6 / 8 * 10 * 2

type Check = { pass: boolean; why?: string } | undefined

const f1 = (x: number) => x.toFixed(1)
const cellOf = (m: Measured, fmt: (x: number) => string = f1) => (m.ok ? fmt(m.value) : `n/a (${m.reason})`)
const both = (a: Measured, b: Measured) => `${cellOf(a)} / ${cellOf(b)}`

function judge (checks: Check[]): string {
  const real = checks.filter((c): c is { pass: boolean; why?: string } => c !== undefined)
  if (real.length === 0) return '–'
  const bad = real.filter((c) => !c.pass)
  return bad.length === 0 ? 'PASS' : `FAIL (${bad.map((c) => c.why ?? '').filter(Boolean).join('; ')})`
}

/** A check of a measured value; a value that could not be measured fails, naming why. */
function check (m: Measured, ok: (v: number) => boolean, label: string): Check {
  if (!m.ok) return { pass: false, why: `${label}: not measured` }
  return ok(m.value) ? { pass: true } : { pass: false, why: label }
}

function loadedCheck (tocdoMs: Measured, ping: LoadedPing | undefined, label: string): Check {
  if (!tocdoMs.ok || !ping || !ping.medianMs.ok) return { pass: false, why: `${label}: not measured` }
  const p = ping.medianMs.value
  return Math.abs(tocdoMs.value - p) <= HARD_TARGET.loadedLatency * p ? { pass: true } : { pass: false, why: label }
}

export interface Verdicts { ceiling: string; iperf4: string; iperfN: string; repeat: string; loaded: string; idle: string; bytes: string; flags: string }

export function verdicts (p: HardPath): Verdicts {
  const dirs = (r: TocdoRun) => [['down', r.down], ['up', r.up]] as const
  const ceiling: Check[] = []
  const iperf4: Check[] = []
  const iperfN: Check[] = []
  const loaded: Check[] = []
  const idle: Check[] = []
  const bytes: Check[] = []
  const flags: Check[] = []
  p.runs.forEach((r, i) => {
    const tag = `#${i + 1}`
    for (const [d, m] of dirs(r)) {
      ceiling.push(check(m, (v) => v <= p.ceilingMbps * HARD_TARGET.ceilingHigh, `${tag} ${d}`))
      const i4 = d === 'down' ? p.iperf4Down : p.iperf4Up
      iperf4.push(i4.ok ? check(m, (v) => v >= HARD_TARGET.belowIperf4 * i4.value, `${tag} ${d}`) : { pass: false, why: `iperf3 -P 4 ${d} not measured` })
      const iN = d === 'down' ? p.iperfNDown : p.iperfNUp
      iperfN.push(iN.ok ? check(m, (v) => Math.abs(v / iN.value - 1) <= HARD_TARGET.vsIperfN, `${tag} ${d}`) : { pass: false, why: `iperf3 -P N ${d} not measured` })
    }
    loaded.push(loadedCheck(r.loadedDownMs, r.pingDown, `${tag} down`), loadedCheck(r.loadedUpMs, r.pingUp, `${tag} up`))
    idle.push(p.pingIdleMs.ok ? check(r.idleMs, (v) => Math.abs(v - (p.pingIdleMs as { value: number }).value) <= HARD_TARGET.idleMs, tag) : { pass: false, why: 'ping not measured' })
    bytes.push(check(r.bytes, (v) => v <= HARD_TARGET.bytesShare * fixedTestBytes(p.ceilingMbps), tag))
    flags.push(r.flags === '' && r.confidence === 'high' ? { pass: true } : { pass: false, why: `${tag} ${r.flags || 'no flag'}, ${r.confidence}` })
  })
  const repeat: Check[] = []
  if (p.runs.length >= 2) {
    const [a, b] = p.runs as [TocdoRun, TocdoRun]
    for (const [d, x, y] of [['down', a.down, b.down], ['up', a.up, b.up]] as const) {
      repeat.push(x.ok && y.ok
        ? (Math.max(x.value, y.value) / Math.min(x.value, y.value) <= 1 + HARD_TARGET.repeat ? { pass: true } : { pass: false, why: d })
        : { pass: false, why: `${d}: not measured` })
    }
  }
  return {
    ceiling: judge(ceiling),
    iperf4: judge(iperf4),
    iperfN: judge(iperfN),
    repeat: judge(repeat),
    loaded: judge(loaded),
    idle: judge(idle),
    bytes: judge(bytes),
    flags: judge(flags),
  }
}

export const pathName = (p: HardPath) =>
  `${p.rateMbit}/${p.rttMs}, ${p.lossPct} %, ${p.cc}, ${p.topology === 'router' ? 'router' : 'sender'} ${p.queueMs} ms`

/** tocdo's loaded median with the load its record states. */
function loadedCell (ms: Measured, load: RecordedLoad | undefined): string {
  if (!ms.ok || !load) return cellOf(ms)
  const streams = load.streamsMin === load.streamsMax ? String(load.streamsMax) : `${load.streamsMin}–${load.streamsMax}`
  return `${cellOf(ms)} (${streams} streams, ${load.mbps === null ? 'n/a' : f1(load.mbps)} Mbit/s of payload)`
}

function pingCell (lp: LoadedPing | undefined): string {
  if (!lp) return 'n/a'
  return lp.medianMs.ok ? `${lp.medianMs.value.toFixed(1)} (n ${lp.n}; ${lp.streams} streams, ${f1(lp.wireMbps)} Mbit/s)` : `n/a (${lp.medianMs.reason})`
}

export function renderHard (paths: HardPath[]): { text: string; pass: boolean } {
  const L: string[] = []
  L.push('Path: rate Mbit/s / RTT ms, random loss, congestion control (both ends), where tbf sits (router between the ends, or the sender\'s own egress) and its queue.')
  L.push('')
  L.push('| Path | Ceiling | iperf3 -P 4 down / up | iperf3 -P 1 down / up | iperf3 -P N down / up (N) | tocdo #1 down / up | tocdo #2 down / up |')
  L.push('|---|--:|--:|--:|--:|--:|--:|')
  for (const p of paths) {
    const r = (i: number) => (p.runs[i] ? both(p.runs[i]!.down, p.runs[i]!.up) : '–')
    L.push(`| ${pathName(p)} | ${f1(p.ceilingMbps)} | ${both(p.iperf4Down, p.iperf4Up)} | ${both(p.iperf1Down, p.iperf1Up)} | ${both(p.iperfNDown, p.iperfNUp)} (${p.nDown ?? '?'} / ${p.nUp ?? '?'}) | ${r(0)} | ${r(1)} |`)
  }
  L.push('')
  L.push('Latency, ms (ping medians; under load: echoes while that load ran, with the load\'s streams and rate on the client\'s interface):')
  L.push('')
  L.push('| Path | test | ping idle | tocdo idle | ping under iperf3 -P 4 down | up | ping under tocdo down | tocdo loaded down (its recorded load) | ping under tocdo up | tocdo loaded up (its recorded load) |')
  L.push('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|')
  for (const p of paths) {
    p.runs.forEach((r, i) => {
      L.push(`| ${pathName(p)} | #${i + 1} | ${cellOf(p.pingIdleMs, (x) => x.toFixed(2))} | ${cellOf(r.idleMs, (x) => x.toFixed(2))} | ${i === 0 ? pingCell(p.pingIperf4Down) : '″'} | ${i === 0 ? pingCell(p.pingIperf4Up) : '″'} | ${pingCell(r.pingDown)} | ${loadedCell(r.loadedDownMs, r.loadDown)} | ${pingCell(r.pingUp)} | ${loadedCell(r.loadedUpMs, r.loadUp)} |`)
    })
  }
  L.push('')
  L.push('| Path | test | flags | confidence | MB per test | s of transfer | ÷ fixed 10 s-per-direction test | GB a day at 6 tests |')
  L.push('|---|---|---|---|--:|--:|--:|--:|')
  for (const p of paths) {
    p.runs.forEach((r, i) => {
      const share = r.bytes.ok ? (r.bytes.value / fixedTestBytes(p.ceilingMbps)).toFixed(2) : '–'
      L.push(`| ${pathName(p)} | #${i + 1} | ${r.flags === '' ? 'none' : r.flags} | ${r.confidence} | ${cellOf(r.bytes, (x) => (x / 1e6).toFixed(0))} | ${cellOf(r.seconds)} | ${share} | ${cellOf(r.bytes, (x) => (x * 6 / 1e9).toFixed(2))} |`)
    })
  }
  L.push('')
  L.push('Targets (issue 10): **≤ ceiling** every headline ≤ ceiling × 1.01; **≥ P4 − 5 %** not more than 5 % below iperf3 -P 4; ' +
    '**±10 % P N** within 10 % of iperf3 with tocdo\'s final stream count; **repeat** the two tests agree (larger ÷ smaller ≤ 1.10); ' +
    '**loaded ±15 %** tocdo\'s loaded median within 15 % of ping under tocdo\'s own load; **idle ≤ 1 ms** |tocdo idle − ping| ≤ 1 ms; ' +
    '**≤ 60 % bytes** of a fixed 10 s-per-direction test at the ceiling; **clean** no flag and confidence high (every path here is quiet).')
  L.push('')
  L.push('| Path | ≤ ceiling | ≥ P4 − 5 % | ±10 % P N | repeat | loaded ±15 % | idle ≤ 1 ms | ≤ 60 % bytes | clean |')
  L.push('|---|---|---|---|---|---|---|---|---|')
  let pass = true
  for (const p of paths) {
    const v = verdicts(p)
    const cells = [v.ceiling, v.iperf4, v.iperfN, v.repeat, v.loaded, v.idle, v.bytes, v.flags]
    if (cells.some((c) => c !== 'PASS' && c !== '–')) pass = false
    L.push(`| ${pathName(p)} | ${cells.join(' | ')} |`)
  }
  L.push('')
  L.push('Emulated paths (tunlink drops: ring_drops should be 0; loss_drops are the random loss asked for):')
  L.push('')
  for (const p of paths) L.push(`- ${pathName(p)}: load average ${p.loadAvg1.toFixed(1)}; ${p.emulator || 'no tunlink counters'}`)
  return { text: L.join('\n'), pass }
}
