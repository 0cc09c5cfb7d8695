import type { Direction, ResultRecord } from '../../shared/schemas/result.js'
import type { ProbeClock, ProgressEvent } from './context.js'
import type { ConnectionInfo } from './connection-info.js'
import { directionOf } from './direction.js'
import { DOWNLOAD_WARMUP, UPLOAD_WARMUP, type WarmupBounds } from './goodput.js'
import { ipv6Checks, serverSeenFamily } from './ipv6.js'
import { coldConnects, idleLatency, latencyStats } from './latency.js'
import { byteBudgetForTier, EARLY_STOP, MAX_STREAMS, type EarlyStopRule } from './ramp.js'
import { emptyRecord, messageOf } from './record.js'
import { rankServers, type RankedServer } from './select.js'
import { runTransfer } from './transfer.js'
import { FlagSet, FULL_WINDOW_S, clientLimitedReasons, localLinkReason, overallConfidence, serverViewFlags } from './validity.js'
import { accountCrossTraffic, crossTrafficReason, heldBytes, ifaceReading, type CrossTrafficFigures } from './cross-traffic.js'
import { bytesAt, stillTrending } from './goodput.js'
import { readInterfaceCounters, type InterfaceCounters } from '../platform/net-counters.js'
import { interfaceForAddress, linkInfo, linkLayer } from '../platform/link.js'
import type { TransferResult } from './transfer.js'

export { confidenceOf } from './validity.js'

export interface SpeedTestOptions {
  /** One test server; `servers` (several, ranked by ping) takes precedence when given. */
  server?: string
  servers?: readonly string[]
  clock: ProbeClock
  /** Expected download tier, Mbps, from the plan speed or recent results; picks the initial streams. */
  expectedMbps?: number | null
  /** Initial streams; default from the expected tier. */
  streams?: number
  /** Ramp ceiling (16); equal to `streams` keeps the count fixed. */
  maxStreams?: number
  pings?: number
  /** Cold connects timed in parts (TCP, TLS, first byte). */
  coldConnects?: number
  /** Hard cap per direction, ms (methodology.md §4: 15 s). */
  maxMsPerDirection?: number
  byteCapPerDirection?: number
  staggerMs?: number
  sampleIntervalMs?: number
  warmup?: { download: WarmupBounds, upload: WarmupBounds }
  /** Early stop rule for fast stable links; null turns it off. */
  earlyStop?: EarlyStopRule | null
  loadedProbeIntervalMs?: number | null
  directions?: Array<'download' | 'upload'>
  /** Force every connection of the test to one family (never falls back). */
  family?: 4 | 6
  /** Calibrated loopback ceiling of this agent, for client_limited. */
  ceiling?: { downloadMbps: number, uploadMbps: number } | null
  /** Also run the IPv6 sub-tests against the chosen server (and the forced-IPv6 download when 'download'). */
  ipv6?: boolean | 'download'
  context?: Partial<ResultRecord['context']>
  clockInfo?: ResultRecord['clock']
  seq?: number | null
  signal?: AbortSignal
  onProgress?: (e: ProgressEvent) => void
  /** Interface counters, injectable for tests. */
  readCounters?: () => Promise<InterfaceCounters>
}

/**
 * Initial stream count by expected tier (methodology.md §5): 8, and 2 on lines of 50 Mbps or less.
 *
 * Eight even where four would fill the line: where random loss, not the line, bounds each
 * stream's rate (cubic's saw-tooth, about MSS ÷ RTT × 1.22 ÷ √p per stream), the aggregate of
 * more streams averages more saw-teeth. On the accuracy bench's six lossy cubic paths two tests
 * in a row differed by more than 10 % in 5 of 12 directions with 4 initial streams (by up to
 * 24 %, and 43 % where one test added two), and in 1 of 12 with 8 (13.5 %; the others within
 * 6.5 %) (docs/accuracy.md). On a slow line each of eight streams would carry a window of a
 * few packets, too few for fast retransmit, so slow tiers keep 2.
 */
export function initialStreams (expectedMbps: number | null | undefined): number {
  if (expectedMbps != null && expectedMbps <= 50) return 2
  return 8
}

type Skipped = NonNullable<NonNullable<ResultRecord['server']>['skipped']>[number]

/**
 * One full speed test: server choice, idle latency, download, then upload, one direction
 * at a time, then the validity checks. Every outcome becomes a record: a failed phase is
 * reported with its error, a busy server is passed over and named, never dropped and never
 * papered over with a zero.
 */
export async function runSpeedTest (opts: SpeedTestOptions): Promise<ResultRecord> {
  const { clock } = opts
  const servers = (opts.servers !== undefined && opts.servers.length > 0 ? opts.servers : opts.server === undefined ? [] : [opts.server]).map((s) => new URL(s).origin)
  if (servers.length === 0) throw new Error('runSpeedTest needs server or servers')
  const record = emptyRecord('speed', { measuredAt: clock.wall(), seq: opts.seq ?? null, ...(opts.clockInfo === undefined ? {} : { clockInfo: opts.clockInfo }), ...(opts.context === undefined ? {} : { context: opts.context }) })
  const t0 = clock.now()
  const sig = opts.signal === undefined ? {} : { signal: opts.signal }
  const sampleIntervalMs = opts.sampleIntervalMs ?? 100
  const streams = opts.streams ?? initialStreams(opts.expectedMbps)
  const directions = opts.directions ?? ['download', 'upload']
  const byteCap = Math.min(opts.byteCapPerDirection ?? 4 * 1024 ** 3, byteBudgetForTier(opts.expectedMbps))
  const flags = new FlagSet()
  const serverViewUnavailable: string[] = []
  const readCounters = opts.readCounters ?? readInterfaceCounters

  let ranked: RankedServer[] = servers.map((url) => ({ url, medianMs: null, error: null }))
  if (servers.length > 1) {
    opts.onProgress?.({ phase: 'select', servers: servers.length })
    ranked = await rankServers({ servers, clock, ...(opts.family === undefined ? {} : { family: opts.family }), ...sig })
  }
  const skipped: Skipped[] = []
  const results: Partial<Record<'download' | 'upload', Direction>> = {}
  let chosen: string | null = null
  let idle: number[] | null = null
  let cold: Awaited<ReturnType<typeof coldConnects>> | null = null
  let conn: ConnectionInfo | null = null
  let seen: { family: 4 | 6 | null, address: string | null } = { family: null, address: null }
  const transfers: Array<{ dir: 'download' | 'upload', t: TransferResult, warmupEndS: number | null }> = []

  for (const candidate of ranked) {
    if (opts.signal?.aborted === true) break
    const origin = candidate.url
    if (candidate.error !== null && servers.length > 1) { skipped.push({ url: origin, reason: `unreachable: ${candidate.error}`, retryAfterS: null }); continue }
    try {
      idle = await idleLatency({
        origin,
        count: opts.pings ?? 20,
        clock,
        ...sig,
        ...(opts.family === undefined ? {} : { family: opts.family }),
        onConnect: (info) => { conn ??= info },
        onPing: (done, total) => opts.onProgress?.({ phase: 'latency', done, total, server: origin })
      })
    } catch (err) {
      skipped.push({ url: origin, reason: `unreachable: idle latency failed: ${messageOf(err)}`, retryAfterS: null })
      opts.onProgress?.({ phase: 'skip', server: origin, reason: 'unreachable' })
      continue
    }
    cold = await coldConnects({ url: origin, clock, count: opts.coldConnects ?? 3, ...(opts.family === undefined ? {} : { family: opts.family }) })
    seen = await serverSeenFamily(origin, opts.family).catch(() => ({ family: null, address: null }))
    const idleMedian = latencyStats(idle).medianMs
    let busy: { retryAfterS: number | null } | null = null
    for (const dir of directions) {
      const bounds = dir === 'download' ? (opts.warmup?.download ?? DOWNLOAD_WARMUP) : (opts.warmup?.upload ?? UPLOAD_WARMUP)
      const t = await runTransfer({
        origin,
        direction: dir,
        streams,
        maxStreams: opts.maxStreams ?? MAX_STREAMS,
        maxMs: opts.maxMsPerDirection ?? 15_000,
        byteCap,
        staggerMs: opts.staggerMs ?? 200,
        sampleIntervalMs,
        clock,
        warmup: bounds,
        earlyStop: opts.earlyStop === undefined ? EARLY_STOP : opts.earlyStop,
        loadedProbeIntervalMs: opts.loadedProbeIntervalMs === undefined ? 250 : opts.loadedProbeIntervalMs,
        ...(opts.family === undefined ? {} : { family: opts.family }),
        ...sig,
        readCounters,
        onSample: (s, n, mbps) => opts.onProgress?.({ phase: dir, elapsedS: s.tMs / 1000, mbps, streams: n })
      })
      if (t.busy !== null) { busy = t.busy; break }
      conn ??= t.connection
      if (t.streamErrors > 0 && t.streamErrors >= t.streamsStarted) {
        record.error = { code: 'TOCDO_ERR_MEASUREMENT_FAILED', detail: `${dir}: every stream failed: ${t.errors.slice(0, 3).join('; ')}`.slice(0, 1000) }
        break
      }
      const ceiling = opts.ceiling == null ? null : dir === 'download' ? opts.ceiling.downloadMbps : opts.ceiling.uploadMbps
      const d = directionOf({ t, bounds, streamsInitial: streams, sampleIntervalMs, idleMedianMs: idleMedian, ceilingMbps: ceiling, family: opts.family ?? null })
      transfers.push({ dir, t, warmupEndS: d.warmupEndS })
      if (t.streamErrors > 0) flags.add('degraded', `${dir}: ${t.streamErrors} of ${t.streamsStarted} streams failed (${t.errors[0] ?? ''})`)
      if (t.loadedProbeErrors > 0) flags.add('degraded', `${dir}: ${t.loadedProbeErrors} loaded-latency probes failed`)
      if (t.byteCapped) flags.add('byte_capped', `${dir}: stopped at the per-test byte cap of ${byteCap} bytes after ${d.durationS} s`)
      if (d.windowS < FULL_WINDOW_S && t.stopReason !== 'early_stop') flags.add('unstable', `${dir}: steady window ${d.windowS} s is shorter than ${FULL_WINDOW_S} s`)
      else if (d.cv1s !== null && d.cv1s > 0.35) flags.add('unstable', `${dir}: 1-s rates vary with CV ${d.cv1s} > 0.35`)
      if (d.endTrend != null && stillTrending({ ...d.endTrend, t: d.endTrend.t ?? Infinity })) flags.add('unstable', `${dir}: the 1-s rates still ${d.endTrend.change > 0 ? 'rise' : 'fall'} at the end (${Math.round(d.endTrend.change * 100)} % over the last ${d.endTrend.n} s, t = ${d.endTrend.t ?? '∞'}): no sustained rate yet`)
      for (const reason of clientLimitedReasons(dir, d, ceiling)) flags.add('client_limited', reason)
      if (t.server !== null) for (const f of serverViewFlags(dir, t.server)) flags.add(f.flag, f.reason)
      else if (t.serverUnavailable !== null) serverViewUnavailable.push(`${dir}: ${t.serverUnavailable}`)
      results[dir] = d
      if (t.stopReason === 'aborted') { record.error = { code: 'TOCDO_ERR_MEASUREMENT_FAILED', detail: `${dir}: aborted` }; break }
    }
    if (busy !== null && Object.keys(results).length === 0) {
      skipped.push({ url: origin, reason: 'busy: HTTP 503 (server at capacity)', retryAfterS: busy.retryAfterS })
      opts.onProgress?.({ phase: 'skip', server: origin, reason: 'busy' })
      idle = null
      cold = null
      conn = null
      continue
    }
    if (busy !== null) record.error = { code: 'TOCDO_ERR_SERVER_BUSY', detail: `server answered 503 between directions (Retry-After ${busy.retryAfterS ?? 'absent'})` }
    chosen = origin
    break
  }

  const connInfo = conn as ConnectionInfo | null
  const ifaceName = interfaceForAddress(connInfo?.localAddress ?? null)
  const link = await linkInfo(ifaceName)
  record.context = { ...record.context, iface: link.kind, linkMbps: link.linkMbps, ifaceName, tls: (chosen ?? servers[0] as string).startsWith('https:'), ...opts.context }

  if (chosen === null) {
    const anyBusy = skipped.some((s) => s.reason.startsWith('busy'))
    record.status = 'failed'
    record.error = {
      code: anyBusy ? 'TOCDO_ERR_SERVER_BUSY' : 'TOCDO_ERR_SERVER_UNREACHABLE',
      detail: `no test server could run the test: ${skipped.map((s) => `${s.url} ${s.reason}`).join('; ')}`.slice(0, 1000)
    }
  }
  record.server = {
    url: chosen ?? (servers[0] as string),
    address: connInfo?.remoteAddress ?? null,
    family: connInfo?.family ?? null,
    candidates: ranked.map((r) => ({ url: r.url, medianMs: r.medianMs })),
    skipped,
    clientAddress: seen.address
  }
  if (idle !== null) record.latency = { idle: { ...latencyStats(idle), connect: cold === null || cold.n === 0 ? null : cold } }
  record.download = results.download ?? null
  record.upload = results.upload ?? null

  // Cross traffic: what the interface moved beyond the test's own bytes, over each transfer's
  // steady window (cross-traffic.ts).
  if (ifaceName === null) {
    record.context.crossTrafficUnavailable = 'the interface the test used could not be identified'
  } else if (transfers.length > 0) {
    const layer = await linkLayer(ifaceName)
    const framing = { l2HeaderBytes: layer.l2HeaderBytes, family: connInfo?.family ?? null, mtu: layer.mtu }
    const figures: CrossTrafficFigures[] = []
    let source = 'unavailable'
    let unavailable: string | null = null
    for (const { dir, t, warmupEndS } of transfers) {
      const w = crossTrafficWindow(t, warmupEndS, ifaceName)
      if (typeof w === 'string') { unavailable ??= w; continue }
      const held = w.seconds > 0 ? heldBytes(dir, t.loadedProbes, w.fromMs, w.toMs, w.testBytes / (w.seconds * 1000), t.server?.tcp?.bytesRetrans ?? null) : 0
      const f = accountCrossTraffic(w.a, w.b, w.testBytes, w.seconds, framing, dir, held)
      if (f === null) { unavailable ??= `counters of ${ifaceName} went backwards during the test (interface reset)`; continue }
      figures.push(f)
      source = w.source
      const reason = crossTrafficReason(dir, f, ifaceName)
      if (reason !== null) flags.add('cross_traffic', reason)
    }
    if (figures.length > 0) {
      const sum = (k: keyof CrossTrafficFigures): number => figures.reduce((a, f) => a + f[k], 0)
      record.context.crossTraffic = {
        source,
        ifaceBytes: sum('ifaceBytes'),
        testBytes: sum('testBytes'),
        headerBytes: sum('headerBytes'),
        retransBytes: sum('retransBytes'),
        queuedBytes: sum('queuedBytes'),
        extraBytes: sum('extraBytes'),
        allowanceBytes: sum('allowanceBytes'),
        windowS: Math.round(sum('seconds') * 1000) / 1000
      }
    } else if (unavailable !== null) {
      record.context.crossTrafficUnavailable = unavailable
    }
  }
  for (const [dir, d] of Object.entries(results)) {
    const reason = localLinkReason(dir as 'download' | 'upload', d.mbps, link.linkMbps, ifaceName, link.kind === 'ethernet' || link.kind === 'wifi')
    if (reason !== null) {
      flags.add('local_link_limited', reason)
      d.atLeast = true
    }
  }

  if (opts.ipv6 !== undefined && opts.ipv6 !== false && chosen !== null) {
    opts.onProgress?.({ phase: 'ipv6' })
    record.ipv6 = await ipv6Checks({ server: chosen, clock, mainTestFamily: seen.family, forcedDownload: opts.ipv6 === 'download', ...sig }).catch(() => null)
  }

  if (chosen !== null && record.error !== null) record.status = Object.keys(results).length > 0 ? 'partial' : 'failed'
  if (serverViewUnavailable.length > 0) record.context.serverViewUnavailable = serverViewUnavailable.join('; ').slice(0, 300)
  record.flags = flags.flags
  record.flagReasons = flags.reasons
  record.confidence = overallConfidence(Object.values(results), flags.flags)
  record.durationMs = Math.round(clock.now() - t0)
  opts.onProgress?.({ phase: 'done' })
  return record
}

/**
 * The counter readings and test bytes at the two ends of a transfer's steady window: from the
 * first sample after the warm-up (at least 1 s in, past the connection set-ups) to the last
 * sample. A string says why there is no such window.
 */
function crossTrafficWindow (t: TransferResult, warmupEndS: number | null, iface: string): { source: string, a: ReturnType<typeof ifaceReading> & object, b: ReturnType<typeof ifaceReading> & object, testBytes: number, seconds: number, fromMs: number, toMs: number } | string {
  const first = t.counters.find((c) => c !== null)
  if (first === undefined) return 'interface counters unavailable'
  if (first.source === 'unavailable') return first.reason ?? 'interface counters unavailable'
  const fromMs = Math.max(1000, (warmupEndS ?? 0) * 1000)
  let i = t.samples.findIndex((s, k) => s.tMs >= fromMs && t.counters[k] != null)
  let j = t.samples.length - 1
  while (j > 0 && t.counters[j] == null) j--
  if (i < 0 || j - i < 1) {
    // Too short for a steady window: compare over the whole transfer instead.
    i = t.counters.findIndex((c) => c != null)
  }
  if (i < 0 || j <= i) return 'the transfer was too short to compare interface counters'
  const a = ifaceReading(t.counters[i] as InterfaceCounters, iface)
  const b = ifaceReading(t.counters[j] as InterfaceCounters, iface)
  if (a === null || b === null) return `no counters for interface ${iface}`
  const sa = t.samples[i] as { tMs: number, bytes: number }
  const sb = t.samples[j] as { tMs: number, bytes: number }
  return { source: first.source, a, b, testBytes: sb.bytes - bytesAt(t.samples, sa.tMs), seconds: (sb.tMs - sa.tMs) / 1000, fromMs: sa.tMs, toMs: sb.tMs }
}
