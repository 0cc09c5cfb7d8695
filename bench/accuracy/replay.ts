/**
 * Replays the agent's stop and ramp rules on the 100 ms series of recorded tests (the hard
 * bench keeps each record under build/records/), so a rule change can be judged on the
 * series real paths gave before the bench runs again:
 *
 *   npx tsx bench/accuracy/replay.ts [records dir]
 *
 * Per record and direction it prints what the test did (headline, stop, seconds, bytes,
 * streams), then for each early-stop rule where that rule would have stopped, the headline
 * it would have reported there and its bytes; and for each ramp rule the first second at
 * which it would have added streams on the series before the test's own first add (after
 * an add the series no longer shows what the path did without it).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DOWNLOAD_WARMUP, UPLOAD_WARMUP, bytesAt, streamAddTimes, throughputFigures, type Sample, type WarmupBounds } from '../../agent/measure/goodput.js'
import { EARLY_STOP, earlyStopDue, shouldAddStreams, type EarlyStopRule } from '../../agent/measure/ramp.js'

interface RecordedDirection {
  mbps: number
  streamsInitial: number
  streamsMax: number
  durationS: number
  bytes: number
  stopReason: string
  samples: { cumulativeBytes: number[], tMs: number[], streams: number[] }
}

const dir = process.argv[2] ?? join(import.meta.dirname, 'build/records')
const MAX_MS = 15_000

type StopRule = (prefix: readonly Sample[], bounds: WarmupBounds, adds: readonly number[]) => boolean
const lastOf = (adds: readonly number[]): number | null => adds.length > 0 ? adds[adds.length - 1] as number : null
const cvRule = (rule: EarlyStopRule): StopRule => (prefix, bounds, adds) => earlyStopDue(prefix, bounds, rule, lastOf(adds))

/**
 * A candidate: the headline itself has converged. The figure over the steady window at this
 * sample, 1 s and 2 s before all lie within ±tol of each other, with at least minWindowMs of
 * window: what the test would report no longer moves, whatever the 1-s rates do.
 */
const converged = (minWindowMs: number, tol: number): StopRule => (prefix, bounds, adds) => {
  const last = prefix[prefix.length - 1] as Sample
  const at = (tMs: number): { mbps: number | null, windowS: number } => {
    const cut = prefix.filter((s) => s.tMs <= tMs)
    const f = throughputFigures(cut, bounds, adds.filter((a) => a <= tMs))
    return { mbps: f.goodputMbps, windowS: f.windowS }
  }
  const now = at(last.tMs)
  if (now.mbps === null || now.windowS * 1000 < minWindowMs) return false
  const before = [at(last.tMs - 1000).mbps, at(last.tMs - 2000).mbps]
  return before.every((m) => m !== null && Math.abs(m / (now.mbps as number) - 1) <= tol)
}

const stopRules: Array<[string, StopRule]> = [
  ['current', cvRule(EARLY_STOP)],
  ['window 3 s', cvRule({ ...EARLY_STOP, minWindowMs: 3000 })],
  ['converged 3 s ±2 %', converged(3000, 0.02)],
  ['converged 4 s ±2 %', converged(4000, 0.02)]
]

function replayStop (samples: Sample[], streams: number[], initial: number, bounds: WarmupBounds, rule: StopRule): { tMs: number, mbps: number | null, bytes: number } | null {
  for (let i = 10; i < samples.length; i++) {
    const prefix = samples.slice(0, i + 1)
    const adds = streamAddTimes(prefix, streams.slice(0, i + 1), initial)
    if (rule(prefix, bounds, adds)) {
      const s = prefix[prefix.length - 1] as Sample
      return { tMs: s.tMs, mbps: throughputFigures(prefix, bounds, adds).goodputMbps, bytes: s.bytes - (samples[0] as Sample).bytes }
    }
  }
  return null
}

type RampRule = (samples: readonly Sample[], tMs: number, streams: number) => boolean

/** The rule before the fitted line was required (three rising seconds, ≥ 10 % in all), for comparison. */
const threeRisingSeconds: RampRule = (samples, tMs) => {
  if (tMs < 3000) return false
  const [a, b, c] = [2000, 1000, 0].map((back) => (bytesAt(samples, tMs - back) - bytesAt(samples, tMs - back - 1000)) * 8 / 1_000_000)
  return a !== undefined && b !== undefined && c !== undefined && a > 0 && b > a && c > b && c >= a * 1.1
}

const rampRules: Array<[string, RampRule]> = [
  ['current', (samples, tMs, streams) => shouldAddStreams({ samples, tMs, maxMs: MAX_MS, streams })],
  ['three rising seconds', threeRisingSeconds]
]

function firstRampAdd (samples: Sample[], streams: number[], initial: number, rule: RampRule): number | null {
  const adds = streamAddTimes(samples, streams, initial)
  const until = adds[0] ?? Infinity
  for (let t = 3000; t <= MAX_MS / 2; t += 1000) {
    const prefix = samples.filter((s) => s.tMs <= t + 100)
    const last = prefix[prefix.length - 1]
    if (last === undefined || last.tMs > until) break
    if (rule(prefix, last.tMs, initial)) return last.tMs
  }
  return null
}

const f = (x: number | null | undefined, d = 1): string => x == null ? '–' : x.toFixed(d)

for (const file of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
  const rec = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, RecordedDirection | undefined>
  for (const name of ['download', 'upload'] as const) {
    const d = rec[name]
    if (d?.samples === undefined) continue
    const samples = d.samples.tMs.map((tMs, i) => ({ tMs, bytes: d.samples.cumulativeBytes[i] as number }))
    const bounds = name === 'download' ? DOWNLOAD_WARMUP : UPLOAD_WARMUP
    const adds = streamAddTimes(samples, d.samples.streams, d.streamsInitial)
    console.log(`${file} ${name}: ${f(d.mbps)} Mbit/s, ${d.stopReason} at ${f(d.durationS)} s, ${f(d.bytes / 1e6, 0)} MB, streams ${d.streamsInitial}→${d.streamsMax}${adds.length > 0 ? ` (added at ${adds.map((t) => f(t / 1000)).join(', ')} s)` : ''}`)
    for (const [label, rule] of stopRules) {
      const r = replayStop(samples, d.samples.streams, d.streamsInitial, bounds, rule)
      console.log(`  stop ${label.padEnd(20)} ${r === null ? 'never' : `${f(r.tMs / 1000)} s, ${f(r.mbps)} Mbit/s (${f(r.mbps === null ? null : (r.mbps / d.mbps - 1) * 100)} %), ${f(r.bytes / 1e6, 0)} MB`}`)
    }
    for (const [label, rule] of rampRules) {
      const add = firstRampAdd(samples, d.samples.streams, d.streamsInitial, rule)
      console.log(`  ramp ${label.padEnd(20)} first add ${add === null ? 'never (up to the recorded first add)' : `at ${f(add / 1000)} s`}`)
    }
  }
}
