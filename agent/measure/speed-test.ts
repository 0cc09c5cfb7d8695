import os from 'node:os'
import { newResultId } from '../../shared/ids.js'
import { RESULT_SCHEMA_VERSION, type Direction, type ResultRecord, type ValidityFlag } from '../../shared/schemas/result.js'
import { TOCDO_VERSION } from '../../shared/version.js'
import { DOWNLOAD_WARMUP, UPLOAD_WARMUP, throughputFigures, type WarmupBounds } from './goodput.js'
import { idleLatency, latencyStats } from './latency.js'
import { runTransfer, type TransferResult } from './transfer.js'
import type { ProbeClock, ProgressEvent } from './context.js'

export interface SpeedTestOptions {
  server: string
  clock: ProbeClock
  /** Expected download tier, Mbps, from the plan speed or recent results; picks the initial streams. */
  expectedMbps?: number | null
  streams?: number
  pings?: number
  /** Hard cap per direction, ms (methodology.md §4: 15 s). */
  maxMsPerDirection?: number
  byteCapPerDirection?: number
  staggerMs?: number
  sampleIntervalMs?: number
  warmup?: { download: WarmupBounds, upload: WarmupBounds }
  directions?: Array<'download' | 'upload'>
  context?: Partial<ResultRecord['context']>
  clockInfo?: ResultRecord['clock']
  seq?: number | null
  signal?: AbortSignal
  onProgress?: (e: ProgressEvent) => void
}

/** Initial stream count by expected tier (methodology.md §5). */
export function initialStreams (expectedMbps: number | null | undefined): number {
  if (expectedMbps == null) return 4
  if (expectedMbps <= 50) return 2
  if (expectedMbps <= 150) return 4
  if (expectedMbps <= 400) return 6
  return 8
}

/** Minimum steady window for a full-confidence result, seconds (methodology.md §7). */
const FULL_WINDOW_S = 6

export function confidenceOf (cv1s: number | null, windowS: number, oneSecondSamples: number): 'high' | 'medium' | 'low' {
  if (oneSecondSamples < 5 || cv1s === null) return 'low'
  let c: 'high' | 'medium' | 'low' = cv1s <= 0.15 ? 'high' : cv1s <= 0.35 ? 'medium' : 'low'
  if (windowS < FULL_WINDOW_S && c === 'high') c = 'medium'
  return c
}

function direction (t: TransferResult, bounds: WarmupBounds, streamsInitial: number, sampleIntervalMs: number): Direction {
  const f = throughputFigures(t.samples, bounds)
  const r = (v: number | null): number | null => v === null ? null : Math.round(v * 1000) / 1000
  return {
    mbps: r(f.goodputMbps) ?? 0,
    streamsInitial,
    streamsMax: Math.max(streamsInitial, t.streamsStarted),
    warmupEndS: f.warmupEndS,
    windowS: Math.round(f.windowS * 1000) / 1000,
    durationS: Math.round(f.durationS * 1000) / 1000,
    bytes: t.totalBytes,
    meanWholeMbps: r(f.meanWholeMbps),
    p90_1sMbps: r(f.p90_1sMbps),
    trimmedMeanMbps: r(f.trimmedMeanMbps),
    min1sMbps: r(f.min1sMbps),
    cv1s: r(f.cv1s),
    countedAt: t.countedAt,
    byteCapped: t.byteCapped,
    streamErrors: t.streamErrors,
    loaded: null,
    cpu: null,
    samples: {
      intervalMs: sampleIntervalMs,
      cumulativeBytes: t.samples.map((s) => s.bytes),
      tMs: t.samples.map((s) => Math.round(s.tMs * 10) / 10)
    }
  }
}

function defaultContext (): ResultRecord['context'] {
  const cpus = os.cpus()
  return {
    os: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    iface: 'unknown',
    linkMbps: null,
    connectionClass: null,
    planDownMbps: null,
    planUpMbps: null,
    crossTraffic: null
  }
}

/**
 * One full speed test against one server: idle latency, then download, then upload, one
 * direction at a time. Every outcome becomes a record: a failed phase is reported with its
 * error, never dropped and never papered over with a zero.
 */
export async function runSpeedTest (opts: SpeedTestOptions): Promise<ResultRecord> {
  const { clock } = opts
  const origin = new URL(opts.server).origin
  const startedWall = clock.wall()
  const t0 = clock.now()
  const sampleIntervalMs = opts.sampleIntervalMs ?? 100
  const streams = opts.streams ?? initialStreams(opts.expectedMbps)
  const directions = opts.directions ?? ['download', 'upload']
  const flags = new Set<ValidityFlag>()
  const flagReasons: ResultRecord['flagReasons'] = []
  const flag = (f: ValidityFlag, reason: string): void => { if (!flags.has(f)) { flags.add(f); flagReasons.push({ flag: f, reason }) } }
  let error: ResultRecord['error'] = null

  let idle: number[] | null = null
  try {
    idle = await idleLatency({
      origin,
      count: opts.pings ?? 20,
      clock,
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      onPing: (done, total) => opts.onProgress?.({ phase: 'latency', done, total })
    })
  } catch (err) {
    error = { code: 'TOCDO_ERR_SERVER_UNREACHABLE', detail: `idle latency: ${err instanceof Error ? err.message : String(err)}` }
  }

  const results: Partial<Record<'download' | 'upload', Direction>> = {}
  if (error === null) {
    for (const dir of directions) {
      const bounds = dir === 'download' ? (opts.warmup?.download ?? DOWNLOAD_WARMUP) : (opts.warmup?.upload ?? UPLOAD_WARMUP)
      const t = await runTransfer({
        origin,
        direction: dir,
        streams,
        maxMs: opts.maxMsPerDirection ?? 15_000,
        byteCap: opts.byteCapPerDirection ?? 4 * 1024 ** 3,
        staggerMs: opts.staggerMs ?? 200,
        sampleIntervalMs,
        clock,
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
        onSample: (s, n) => opts.onProgress?.({ phase: dir, elapsedS: s.tMs / 1000, mbps: 0, streams: n })
      })
      if (t.streamErrors >= streams) {
        error = { code: 'TOCDO_ERR_MEASUREMENT_FAILED', detail: `${dir}: every stream failed: ${t.errors.slice(0, 3).join('; ')}` }
        break
      }
      const d = direction(t, bounds, streams, sampleIntervalMs)
      if (t.streamErrors > 0) flag('degraded', `${dir}: ${t.streamErrors} of ${streams} streams failed (${t.errors[0] ?? ''})`)
      if (t.byteCapped) flag('byte_capped', `${dir}: stopped at the per-test byte cap of ${opts.byteCapPerDirection ?? 4 * 1024 ** 3} bytes`)
      if (d.windowS < FULL_WINDOW_S) flag('unstable', `${dir}: steady window ${d.windowS} s is shorter than ${FULL_WINDOW_S} s`)
      else if (d.cv1s !== null && d.cv1s > 0.35) flag('unstable', `${dir}: 1-s rates vary with CV ${d.cv1s}`)
      results[dir] = d
    }
  }

  const confidences = Object.values(results).map((d) => confidenceOf(d.cv1s, d.windowS, Math.floor(d.windowS)))
  const order = { low: 0, medium: 1, high: 2 } as const
  const confidence = confidences.length === 0 ? null : confidences.reduce((a, b) => order[a] <= order[b] ? a : b)

  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    id: newResultId(),
    seq: opts.seq ?? null,
    kind: 'speed',
    status: error !== null ? (Object.keys(results).length > 0 ? 'partial' : 'failed') : 'ok',
    measuredAt: startedWall.toISOString(),
    durationMs: Math.round(clock.now() - t0),
    agentVersion: TOCDO_VERSION,
    clock: opts.clockInfo ?? { offsetMs: null, sinceSyncS: null },
    server: { url: origin, address: null, family: null, candidates: [] },
    context: { ...defaultContext(), ...opts.context },
    latency: idle === null ? null : { idle: { ...latencyStats(idle), connect: null } },
    download: results.download ?? null,
    upload: results.upload ?? null,
    ipv6: null,
    flags: [...flags],
    flagReasons,
    confidence,
    error
  }
}
