/**
 * Ping under load for bench/accuracy: `ping` running while something loads the
 * path, the client interface's byte counters polled beside it, and the split of
 * the samples into the phases where the path carried the download or the upload.
 * The counters give the load the pings saw (its rate on the wire), which the
 * table reports beside the stream count (issue 10, item 6: "under load" depends
 * on the load).
 */
import type { ChildProcess } from 'node:child_process'
import type { Link } from '../../test/fixtures/netns.js'
import { killTree } from '../../test/fixtures/netns.js'

/** One echo reply: wall-clock time (s, from `ping -D`) and round trip (ms). */
export interface PingSample { t: number; ms: number }
/** Interface counters of the client's link device at wall-clock time t (s). */
export interface Counter { t: number; rx: number; tx: number }

export interface Recorder {
  /** Stop ping and the poller; returns what they saw. */
  stop(): Promise<{ pings: PingSample[]; counters: Counter[] }>;
}

const PING_INTERVAL_S = 0.1
const POLL_MS = 250

/** Start ping (every 100 ms, timestamped) from the client to the server, and poll the client's link counters. */
export function startRecorder (link: Link): Recorder {
  const ping: ChildProcess = link.spawn(link.clientNs, 'ping', ['-n', '-D', '-i', String(PING_INTERVAL_S), '-W', '2', link.serverAddr4])
  let out = ''
  ping.stdout?.setEncoding('utf8').on('data', (d: string) => { out += d })
  ping.stderr?.resume()
  const counters: Counter[] = []
  const state = { stopped: false }
  const poll = async (): Promise<void> => {
    while (!state.stopped) {
      const c = await readCounters(link).catch(() => undefined)
      if (c) counters.push(c)
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    }
  }
  const poller = poll()
  return {
    async stop () {
      state.stopped = true
      await poller
      const exited = new Promise<void>((resolve) => (ping.exitCode !== null || ping.signalCode !== null ? resolve() : ping.once('exit', () => resolve())))
      killTree(ping, 'SIGINT')
      await exited
      return { pings: parsePing(out), counters }
    },
  }
}

async function readCounters (link: Link): Promise<Counter> {
  const { stdout } = await link.exec(link.clientNs, 'ip', ['-s', '-j', 'link', 'show', 'dev', link.device], { timeoutMs: 5_000 })
  const t = Date.now() / 1000
  const j = JSON.parse(stdout) as { stats64?: { rx?: { bytes?: number }; tx?: { bytes?: number } } }[]
  const s = j[0]?.stats64
  if (typeof s?.rx?.bytes !== 'number' || typeof s.tx?.bytes !== 'number') throw new Error('no stats64 in ip -j output')
  return { t, rx: s.rx.bytes, tx: s.tx.bytes }
}

export function parsePing (text: string): PingSample[] {
  return [...text.matchAll(/^\[(\d+\.\d+)\].*time=([\d.]+) ms/gm)].map((m) => ({ t: Number(m[1]), ms: Number(m[2]) }))
}

export interface Phase {
  /** Ping round trips inside the phase, ms. */
  pingsMs: number[];
  /** Mean rate of the loaded direction on the client's interface during the phase (headers included), Mbit/s. */
  wireMbps: number;
  /** Seconds the phase lasted (sum of its poll intervals). */
  seconds: number;
  /** Wall-clock start of its first loaded poll interval (s): where the direction began, to within a poll. */
  startT: number;
  /** The echo replies inside the phase, with their times. */
  pings: PingSample[];
}

/**
 * The intervals where one direction carried the load: its rate is at least half
 * its 90th-percentile interval rate and above the other direction's. A whole
 * test (idle pings, download, upload) splits into its two transfers this way
 * without any timing from the agent.
 */
export function phaseOf (counters: Counter[], pings: PingSample[], dir: 'down' | 'up'): Phase | undefined {
  const iv: { a: number; b: number; rate: number; other: number }[] = []
  for (let i = 1; i < counters.length; i++) {
    const p = counters[i - 1]!
    const c = counters[i]!
    const dt = c.t - p.t
    if (dt <= 0) continue
    const rx = ((c.rx - p.rx) * 8) / dt / 1e6
    const tx = ((c.tx - p.tx) * 8) / dt / 1e6
    iv.push({ a: p.t, b: c.t, rate: dir === 'down' ? rx : tx, other: dir === 'down' ? tx : rx })
  }
  if (iv.length === 0) return undefined
  const sorted = iv.map((x) => x.rate).sort((x, y) => x - y)
  const p90 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.9))]!
  if (p90 <= 0) return undefined
  const loaded = iv.filter((x) => x.rate >= p90 / 2 && x.rate > x.other)
  if (loaded.length === 0) return undefined
  const seconds = loaded.reduce((s, x) => s + (x.b - x.a), 0)
  const bits = loaded.reduce((s, x) => s + x.rate * (x.b - x.a), 0)
  const inside = pings.filter((p) => loaded.some((x) => p.t >= x.a && p.t < x.b))
  return { pingsMs: inside.map((p) => p.ms), wireMbps: bits / seconds, seconds, startT: loaded[0]!.a, pings: inside }
}

/**
 * The phase narrowed to the span of tocdo's own loaded-latency probes (the record's
 * `loaded.load.fromS`/`toS`: seconds from the direction's first stream, after its warm-up),
 * so ping is compared under the load tocdo's probes saw, not under the ramp before it: a
 * queue's delay depends on how many streams fill it. The span is placed from the phase's
 * start, which the 250 ms counter polls give to within a poll.
 */
export function narrowTo (phase: Phase | undefined, span: { fromS: number; toS: number } | undefined): Phase | undefined {
  if (!phase || !span) return phase
  const from = phase.startT + span.fromS
  const to = phase.startT + span.toS
  const pings = phase.pings.filter((p) => p.t >= from && p.t <= to)
  return { ...phase, pings, pingsMs: pings.map((p) => p.ms), seconds: span.toS - span.fromS }
}

/** Pings sent after the first `skipS` seconds of a run (iperf3's omitted start-up), with the run's wire rate. */
export function afterStart (counters: Counter[], pings: PingSample[], dir: 'down' | 'up', skipS: number): Phase | undefined {
  const t0 = counters[0]?.t
  if (t0 === undefined) return undefined
  return phaseOf(counters.filter((c) => c.t >= t0 + skipS), pings.filter((p) => p.t >= t0 + skipS), dir)
}
