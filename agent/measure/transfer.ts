import { randomUUID } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import { PATHS, TEST_ID_HEADER } from '../../shared/protocol.js'
import { getUploadPayload, type ProbeClock } from './context.js'
import type { ConnectionInfo } from './connection-info.js'
import { Http1Connection, type Http1Response } from './http1.js'
import { startCpuMonitor, type CpuReading } from './cpu.js'
import { HttpPinger } from './http-pinger.js'
import { earlyStopDue, MAX_STREAMS, RAMP_STEP, rateOverSecondEndingAt, shouldAddStreams, type EarlyStopRule } from './ramp.js'
import type { Sample, WarmupBounds } from './goodput.js'
import type { InterfaceCounters } from '../platform/net-counters.js'
import { ServerTestSummary, type ServerView } from '../../shared/schemas/result.js'
import { Value } from '@sinclair/typebox/value'

export interface TransferOptions {
  origin: string
  direction: 'download' | 'upload'
  /** Initial streams (from the expected tier). */
  streams: number
  /** Ramp ceiling; equal to `streams` turns the dynamic ramp off. Default 16. */
  maxStreams?: number
  /** Hard cap on the whole transfer, ms (methodology: 15 s). */
  maxMs: number
  /** Stop when this many payload bytes have moved; the test is then marked byte-capped. */
  byteCap: number
  /** Delay between stream starts, ms (LibreSpeed CLI and methodology: 200 ms). */
  staggerMs: number
  sampleIntervalMs: number
  clock: ProbeClock
  signal?: AbortSignal
  /** Warm-up bounds, used by the early-stop rule while the test runs. */
  warmup: WarmupBounds
  /** Early stop for fast stable links (methodology §7.5); null turns it off. */
  earlyStop?: EarlyStopRule | null
  /** Loaded-latency probe period on a separate connection, ms; null turns probes off. */
  loadedProbeIntervalMs?: number | null
  /** Called after each sample, for live progress. */
  onSample?: (s: Sample, streams: number, mbps: number) => void
  /** Force the address family of every connection (IPv6 sub-tests). Never falls back. */
  family?: 4 | 6
  /** Interface counters, read at every sample for the cross-traffic check (cross-traffic.ts). */
  readCounters?: () => Promise<InterfaceCounters>
}

export type StopReason = 'time_cap' | 'early_stop' | 'byte_cap' | 'streams_failed' | 'aborted'

export interface TransferResult {
  samples: Sample[]
  /** Open streams at each sample. */
  streamSeries: number[]
  /** Download: cumulative bytes per stream at each sample ([stream][sample]). */
  perStreamCum: number[][]
  streamsStarted: number
  streamErrors: number
  errors: string[]
  byteCapped: boolean
  stopReason: StopReason
  countedAt: 'client' | 'server'
  /** Bytes the server reported receiving (upload) or the client read (download). */
  totalBytes: number
  testId: string
  /** Set when the server refused the test (HTTP 503): move on or back off. */
  busy: { retryAfterS: number | null } | null
  /** Loaded-latency probes: send time since the transfer start and round-trip time, ms. */
  loadedProbes: Array<{ tMs: number, rttMs: number }>
  loadedProbeErrors: number
  cpu: CpuReading
  connection: ConnectionInfo | null
  /** Interface counters read right after each sample ([i] belongs to samples[i]); empty without readCounters. */
  counters: Array<InterfaceCounters | null>
  /** The server's own counters of this direction, read before the streams were cut; null if it gave none. */
  server: ServerView | null
  /** Why `server` is null. */
  serverUnavailable: string | null
}

/** The server answered 503: it is at capacity. */
export class ServerBusyError extends Error {
  constructor (readonly retryAfterS: number | null) { super(`server busy (HTTP 503, Retry-After ${retryAfterS ?? 'absent'})`) }
}

/** Seconds from a Retry-After value: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterOf (raw: string | undefined): number | null {
  if (raw === undefined) return null
  const s = Number(raw)
  if (Number.isFinite(s) && s >= 0) return s
  const at = Date.parse(raw)
  return Number.isFinite(at) ? Math.max(0, (at - Date.now()) / 1000) : null
}

/** A stream's request was refused: 503 means the server is full, anything else is an error. */
function refusal (res: Http1Response, what: string): never {
  if (res.status === 503) throw new ServerBusyError(retryAfterOf(res.headers.get('retry-after')))
  throw new Error(`${what}: HTTP ${res.status} ${res.body.toString('utf8', 0, 200)}`.trimEnd())
}

/** One download request asks for this much at most; a stream asks again when it runs out. */
const DOWNLOAD_REQUEST_BYTES = 2 * 1024 ** 3
const WRITE_BYTES = 1024 * 1024

/**
 * Runs one direction over separate TCP connections (one Http1Connection each) and samples the
 * receiver-side byte count every `sampleIntervalMs` on the monotonic clock. Download bytes
 * are counted as the agent reads them; upload bytes as the server reports receiving them,
 * never as written to the socket (bytes in the send buffer are not delivered yet: ndt7-js
 * PR #58, librespeed/speedtest#23). Streams start `staggerMs` apart and are added 2 at a
 * time while the rate still rises (methodology.md §5).
 */
export async function runTransfer (opts: TransferOptions): Promise<TransferResult> {
  const { clock } = opts
  const testId = randomUUID()
  const controller = new AbortController()
  // Every stream request, sleep and probe listens on this signal: up to ~40 listeners.
  setMaxListeners(200, controller.signal)
  const onOuterAbort = (): void => { controller.abort() }
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true })
  const maxStreams = Math.max(opts.streams, opts.maxStreams ?? MAX_STREAMS)
  const conns: Http1Connection[] = []
  const perStream: number[] = []
  const perStreamCum: number[][] = []
  const errors: string[] = []
  let connection: ConnectionInfo | null = null
  let streamErrors = 0
  // An object, not a let: closures set it and loops read it.
  const state = { stopped: false }
  let stopReason: StopReason = 'time_cap'
  let byteCapped = false
  let busy: TransferResult['busy'] = null
  let uploadSent = 0
  let serverBytes = 0
  let target = opts.streams
  let started = 0
  const t0 = clock.now()
  const samples: Sample[] = [{ tMs: 0, bytes: 0 }]
  const readCounters = opts.readCounters
  const readOrNull = async (): Promise<InterfaceCounters | null> => readCounters === undefined ? null : await readCounters().catch(() => null)
  const counters: Array<InterfaceCounters | null> = readCounters === undefined ? [] : [await readOrNull()]
  const streamSeries: number[] = [0]
  const loadedProbes: Array<{ tMs: number, rttMs: number }> = []
  let loadedProbeErrors = 0
  const cpu = startCpuMonitor(clock.now)
  const headers = { [TEST_ID_HEADER]: testId }

  let responseVia: string | null = null
  let server: ServerView | null = null
  let serverUnavailable: string | null = null
  const clientTotal = (): number => perStream.reduce((a, b) => a + b, 0)
  const stop = (reason: StopReason): void => { if (!state.stopped) { state.stopped = true; stopReason = reason } }

  const connect = async (): Promise<Http1Connection> => {
    const c = await Http1Connection.open(opts.origin, {
      ...(opts.family === undefined ? {} : { family: opts.family }),
      onConnect: (info) => { connection ??= info }
    })
    conns.push(c)
    // The transfer may have ended while this stream was still connecting.
    if (state.stopped) c.close()
    return c
  }

  async function downloadStream (index: number): Promise<void> {
    const conn = await connect()
    const count = (bytes: Buffer): void => {
      perStream[index] = (perStream[index] ?? 0) + bytes.length
      if (!state.stopped && clientTotal() >= opts.byteCap) {
        byteCapped = true
        stop('byte_cap')
        // Stop reading now; the sampler still takes its last sample before the transfer ends.
        for (const c of conns) c.close()
      }
    }
    while (!state.stopped) {
      const remaining = opts.byteCap - clientTotal()
      if (remaining <= 0) { byteCapped = true; stop('byte_cap'); return }
      let ok = false
      const res = await conn.request({
        method: 'GET',
        path: `${PATHS.download}?bytes=${Math.min(remaining, DOWNLOAD_REQUEST_BYTES)}`,
        headers,
        // Only a 200's body is payload.
        onHead: (h) => { ok = h.status === 200; responseVia ??= h.headers.get('via') ?? null },
        onBody: (b) => { if (ok) count(b) },
        signal: controller.signal
      })
      if (!ok) refusal(res, `download stream ${index}`)
    }
  }

  async function uploadStream (index: number): Promise<void> {
    const conn = await connect()
    const payload = getUploadPayload()
    let offset = (index * 997 * 1024) % payload.length
    const res = await conn.request({
      method: 'POST',
      path: PATHS.upload,
      headers: { ...headers, 'Content-Type': 'application/octet-stream' },
      collect: true,
      signal: controller.signal,
      // 1 MiB writes, with the socket's back-pressure bounding what is queued
      // (methodology.md §5); the per-test cap counts bytes handed over by every stream.
      body: async (write, done) => {
        while (!state.stopped && !done.aborted) {
          if (uploadSent >= opts.byteCap) { byteCapped = true; return }
          const n = Math.min(WRITE_BYTES, payload.length - offset, opts.byteCap - uploadSent)
          const view = payload.subarray(offset, offset + n)
          offset = (offset + n) % payload.length
          uploadSent += n
          perStream[index] = (perStream[index] ?? 0) + n
          await write.chunk(view)
        }
      }
    })
    if (res.status !== 200) refusal(res, `upload stream ${index}`)
  }

  // Server-side upload counts, polled on a connection of their own.
  let progressConn: Http1Connection | null = null
  let serverClockOffset: number | null = null
  async function pollServerBytes (): Promise<Sample | null> {
    if (progressConn?.usable !== true) progressConn = await connect()
    const conn = progressConn
    const sent = clock.now()
    const res = await conn.request({ method: 'GET', path: `${PATHS.uploadProgress}?test=${testId}`, collect: true, signal: controller.signal })
    if (res.status !== 200) return null
    const json = JSON.parse(res.body.toString('utf8')) as { bytes: number, atMs?: unknown }
    // The count was read somewhere inside the round trip; its midpoint is the best estimate of
    // when, on our clock. But the request crosses the upload's own queue: as that queue fills,
    // the midpoint falls ever earlier than the read, and the rate over-reads (by half the
    // queue's growth over the window: 2 % on a 400 ms queue). A server that states its own
    // clock (`atMs`) is mapped onto ours once, at the first poll, and then timed on its clock.
    const midpoint = (sent + clock.now()) / 2
    if (typeof json.atMs !== 'number' || !Number.isFinite(json.atMs)) return { tMs: midpoint - t0, bytes: json.bytes }
    serverClockOffset ??= midpoint - json.atMs
    return { tMs: json.atMs + serverClockOffset - t0, bytes: json.bytes }
  }

  async function serverSummary (): Promise<ServerView | string> {
    const conn = await Http1Connection.open(opts.origin, { ...(opts.family === undefined ? {} : { family: opts.family }) })
    conns.push(conn)
    const timer = new AbortController()
    const t = setTimeout(() => { timer.abort() }, 3000)
    try {
      // The agent's count as the request leaves: the server reads its TCP_INFO when the request
      // arrives, and the ACKs of anything read after this moment travel behind the request on
      // the same path, so they cannot be in it. Counted when the reply arrives instead, the
      // agent's figure would also hold what it read while the reply crossed the download's
      // queue (4.4 MB more behind a 350 ms queue at 100 Mbit/s): a count_mismatch of our own.
      const agentBytes = opts.direction === 'download' ? clientTotal() : serverBytes
      const res = await conn.request({ method: 'GET', path: `${PATHS.testSummary}?test=${testId}`, headers, collect: true, signal: timer.signal })
      if (res.status !== 200) return `the server has no test summary (HTTP ${res.status})`
      const body: unknown = JSON.parse(res.body.toString('utf8'))
      if (!Value.Check(ServerTestSummary, body)) return 'the server\'s test summary is malformed'
      const side = opts.direction === 'download' ? body.download : body.upload
      return {
        bytes: side.bytes,
        connections: side.connections,
        ...(opts.direction === 'download' ? { blockedMs: body.download.blockedMs } : {}),
        tcp: side.tcp,
        tcpUnavailable: body.tcpUnavailable,
        proxyHeaders: body.proxyHeaders,
        agentBytes,
        responseVia
      }
    } finally {
      clearTimeout(t)
    }
  }

  const streamPromises: Array<Promise<void>> = []
  const startStream = (i: number): void => {
    perStream[i] = 0
    perStreamCum[i] = samples.map(() => 0)
    const run = opts.direction === 'download' ? downloadStream(i) : uploadStream(i)
    streamPromises.push(run.catch((err: unknown) => {
      if (err instanceof ServerBusyError && (opts.direction === 'upload' ? serverBytes : clientTotal()) === 0) {
        busy = { retryAfterS: err.retryAfterS }
        stop('aborted')
        controller.abort()
        return
      }
      if (state.stopped || controller.signal.aborted) return
      streamErrors++
      errors.push(err instanceof Error ? err.message : String(err))
    }))
  }

  // Starts streams up to `target`, one every staggerMs; re-run when the ramp raises it.
  let starting: Promise<void> | null = null
  const startPending = (): void => {
    starting ??= (async () => {
      while (started < target && !state.stopped) {
        startStream(started++)
        if (started < target) await clock.sleep(opts.staggerMs, controller.signal).catch(() => {})
      }
      starting = null
    })()
  }
  startPending()

  // Loaded latency: GET /ping on a separate connection every 250 ms for the whole transfer;
  // the ones inside the warm-up are dropped afterwards, when the warm-up end is known.
  const probeClient = opts.loadedProbeIntervalMs == null ? null : new HttpPinger(opts.origin, { ...(opts.family === undefined ? {} : { family: opts.family }), headers })
  const probing = probeClient === null
    ? Promise.resolve()
    : (async () => {
        const period = opts.loadedProbeIntervalMs as number
        while (!state.stopped) {
          const sentAt = clock.now()
          try {
            const rtt = await probeClient.ping(clock, controller.signal)
            if (!state.stopped) loadedProbes.push({ tMs: sentAt - t0, rttMs: rtt })
          } catch {
            if (!state.stopped) loadedProbeErrors++
          }
          const wait = period - (clock.now() - sentAt)
          if (wait > 0) await clock.sleep(wait, controller.signal).catch(() => {})
        }
      })()

  // One sample with the per-stream counts and interface counters of the same instant.
  const record = async (s: Sample): Promise<void> => {
    samples.push(s)
    streamSeries.push(started)
    for (let i = 0; i < perStreamCum.length; i++) perStreamCum[i]?.push(perStream[i] ?? 0)
    // After the per-stream counts, so they belong to the same instant as the sample.
    if (readCounters !== undefined) counters.push(await readOrNull())
  }

  let nextRampMs = 3000
  let lastAddMs: number | null = null
  try {
    while (!state.stopped) {
      await clock.sleep(opts.sampleIntervalMs, controller.signal).catch(() => {})
      if (controller.signal.aborted) { stop('aborted'); break }
      let s: Sample | null
      if (opts.direction === 'download') {
        s = { tMs: clock.now() - t0, bytes: clientTotal() }
      } else {
        s = await pollServerBytes().catch(() => null)
        if (s !== null) serverBytes = s.bytes
      }
      const prev = samples[samples.length - 1] as Sample
      if (s !== null && s.tMs > prev.tMs) {
        await record(s)
        opts.onSample?.(s, started, s.tMs >= 1000 ? rateOverSecondEndingAt(samples, s.tMs) : (s.bytes * 8) / (s.tMs * 1000))
        if (s.tMs >= nextRampMs) {
          nextRampMs += 1000
          if (started >= target && shouldAddStreams({ samples, tMs: s.tMs, maxMs: opts.maxMs, streams: target, maxStreams, lastAddMs })) {
            target = Math.min(maxStreams, target + RAMP_STEP)
            lastAddMs = s.tMs
            startPending()
          }
        }
        if (opts.earlyStop != null && earlyStopDue(samples, opts.warmup, opts.earlyStop, lastAddMs)) stop('early_stop')
      }
      const elapsed = clock.now() - t0
      if (elapsed >= opts.maxMs) stop('time_cap')
      else if (streamErrors >= started && started >= opts.streams && streamErrors > 0) stop('streams_failed')
      else if (byteCapped && opts.direction === 'upload' && s !== null && s.bytes >= uploadSent) stop('byte_cap')
      else if (byteCapped && opts.direction === 'download') stop('byte_cap')
    }
    // A download can cross its cap between a sample and the end of the sampler's turn (while
    // the interface counters are read): the bytes up to the stop are then one more sample, so
    // the record shows the cap reached rather than the sample before it.
    if (byteCapped && opts.direction === 'download') {
      const s = { tMs: clock.now() - t0, bytes: clientTotal() }
      const prev = samples[samples.length - 1] as Sample
      if (s.bytes > prev.bytes && s.tMs > prev.tMs) await record(s)
    }
    // The server's own view of the test, while its connections are still open (their TCP_INFO
    // goes with them); bounded so a server that cannot answer does not hold the test.
    if (busy === null && (stopReason as StopReason) !== 'aborted') {
      const got = await serverSummary().catch((err: unknown) => `summary request failed: ${err instanceof Error ? err.message : String(err)}`)
      if (typeof got === 'string') serverUnavailable = got
      else server = got
    }
  } finally {
    state.stopped = true
    // Bytes after the last sample count for nothing, so every stream is cut at once: a
    // slow uplink could otherwise take many seconds to drain what is queued.
    controller.abort()
    await Promise.all([...streamPromises, probing, starting ?? Promise.resolve()])
    opts.signal?.removeEventListener('abort', onOuterAbort)
    probeClient?.close()
    for (const c of conns) c.close()
  }

  const last = samples[samples.length - 1] as Sample
  return {
    samples,
    streamSeries,
    perStreamCum: opts.direction === 'download' ? perStreamCum : [],
    streamsStarted: started,
    streamErrors,
    errors,
    byteCapped,
    stopReason,
    countedAt: opts.direction === 'download' ? 'client' : 'server',
    // What the samples counted: bytes read after the last sample belong to no interval.
    totalBytes: last.bytes,
    testId,
    busy,
    loadedProbes,
    loadedProbeErrors,
    cpu: cpu.stop(),
    connection,
    counters,
    server,
    serverUnavailable
  }
}
