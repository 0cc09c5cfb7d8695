import { Client } from 'undici'
import { Readable } from 'node:stream'
import { randomUUID } from 'node:crypto'
import { PATHS, TEST_ID_HEADER } from '../../shared/protocol.js'
import type { ProbeClock } from './context.js'
import { getUploadPayload } from './context.js'
import type { Sample } from './goodput.js'

export interface TransferOptions {
  origin: string
  direction: 'download' | 'upload'
  streams: number
  /** Hard cap on the whole transfer, ms (methodology: 15 s). */
  maxMs: number
  /** Stop when this many payload bytes have moved; the test is then marked byte-capped. */
  byteCap: number
  /** Delay between stream starts, ms (LibreSpeed CLI and methodology: 200 ms). */
  staggerMs: number
  sampleIntervalMs: number
  clock: ProbeClock
  signal?: AbortSignal
  /** Called after each sample with the total so far, for live progress. */
  onSample?: (s: Sample, streams: number) => void
  /** Decides at each sample whether to stop early (e.g. a stable fast link). */
  shouldStop?: (samples: readonly Sample[]) => boolean
  /** Extra options for each connection (e.g. forcing an address family). */
  connect?: { family?: 4 | 6 }
}

export interface TransferResult {
  samples: Sample[]
  streamsStarted: number
  streamErrors: number
  errors: string[]
  byteCapped: boolean
  countedAt: 'client' | 'server'
  /** Bytes the server reported receiving (upload) or the client read (download). */
  totalBytes: number
  testId: string
}

/**
 * Runs one direction over `streams` separate TCP connections (one undici Client each, never
 * one multiplexed connection) and samples the receiver-side byte count every
 * `sampleIntervalMs`. Download bytes are counted as the agent reads them; upload bytes as
 * the server reports receiving them, never as written to the socket (bytes in the send
 * buffer are not yet delivered: ndt7-js PR #58, librespeed/speedtest#23).
 */
export async function runTransfer (opts: TransferOptions): Promise<TransferResult> {
  const { clock } = opts
  const testId = randomUUID()
  const controller = new AbortController()
  const onOuterAbort = (): void => { controller.abort() }
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true })
  const clients: Client[] = []
  const perStream: number[] = []
  const errors: string[] = []
  let streamErrors = 0
  let stopped = false
  let byteCapped = false
  const serverBytes = { value: 0 }
  const t0 = clock.now()
  const samples: Sample[] = [{ tMs: 0, bytes: 0 }]
  const perStreamCap = Math.ceil(opts.byteCap / Math.max(1, opts.streams))

  const total = (): number => opts.direction === 'download' ? perStream.reduce((a, b) => a + b, 0) : serverBytes.value

  const newClient = (): Client => {
    const c = new Client(opts.origin, {
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: 15_000,
      bodyTimeout: 15_000,
      connect: { ...(opts.connect?.family !== undefined ? { family: opts.connect.family } : {}), noDelay: true }
    })
    clients.push(c)
    return c
  }

  async function downloadStream (index: number): Promise<void> {
    const client = newClient()
    perStream[index] = 0
    while (!stopped) {
      const remaining: number = perStreamCap - (perStream[index] ?? 0)
      if (remaining <= 0) { byteCapped = true; return }
      // Ask for more than the test can use, so one request covers the whole stream;
      // the stream is cut when the test ends.
      const { body, statusCode } = await client.request({
        path: `${PATHS.download}?bytes=${remaining}`,
        method: 'GET',
        headers: { [TEST_ID_HEADER]: testId, 'accept-encoding': 'identity' },
        signal: controller.signal
      })
      if (statusCode !== 200) {
        await body.dump()
        throw new Error(`download stream ${index}: HTTP ${statusCode}`)
      }
      for await (const chunk of body as AsyncIterable<Buffer>) {
        perStream[index] = (perStream[index] ?? 0) + chunk.length
        if (stopped) break
      }
    }
  }

  async function uploadStream (index: number): Promise<void> {
    const client = newClient()
    perStream[index] = 0
    const payload = getUploadPayload()
    let offset = 0
    let sent = 0
    const body = new Readable({
      highWaterMark: 1024 * 1024,
      read () {
        // 1 MiB writes keep per-write overhead small; the stream's back-pressure bounds
        // what is queued (methodology.md §5).
        if (stopped || sent >= perStreamCap) {
          if (sent >= perStreamCap) byteCapped = true
          this.push(null)
          return
        }
        const n = Math.min(1024 * 1024, payload.length - offset, perStreamCap - sent)
        this.push(payload.subarray(offset, offset + n))
        offset = (offset + n) % payload.length
        sent += n
      }
    })
    const { body: reply, statusCode } = await client.request({
      path: PATHS.upload,
      method: 'POST',
      headers: { [TEST_ID_HEADER]: testId, 'content-type': 'application/octet-stream' },
      body,
      signal: controller.signal
    })
    const text = await reply.text()
    if (statusCode !== 200) throw new Error(`upload stream ${index}: HTTP ${statusCode} ${text.slice(0, 200)}`)
    perStream[index] = (JSON.parse(text) as { bytes: number }).bytes
  }

  // Server-side upload counts, polled on a connection of their own.
  const progressClient = opts.direction === 'upload' ? newClient() : null
  async function pollServerBytes (): Promise<{ bytes: number, atMs: number } | null> {
    if (progressClient === null) return null
    const sent = clock.now()
    const { body, statusCode } = await progressClient.request({
      path: `${PATHS.uploadProgress}?test=${testId}`, method: 'GET', signal: controller.signal
    })
    const json = await body.json() as { bytes: number }
    if (statusCode !== 200) return null
    // The count was read on the server somewhere inside the round trip; its midpoint is the
    // best estimate of when, without a clock shared with the server.
    return { bytes: json.bytes, atMs: (sent + clock.now()) / 2 - t0 }
  }

  const streamPromises: Array<Promise<void>> = []
  const startStream = (i: number): void => {
    const run = opts.direction === 'download' ? downloadStream(i) : uploadStream(i)
    streamPromises.push(run.catch((err: unknown) => {
      if (stopped || controller.signal.aborted) return
      streamErrors++
      errors.push(err instanceof Error ? err.message : String(err))
    }))
  }

  const staggered = (async () => {
    for (let i = 0; i < opts.streams && !stopped; i++) {
      startStream(i)
      if (i < opts.streams - 1) await clock.sleep(opts.staggerMs).catch(() => {})
    }
  })()

  try {
    while (!stopped) {
      await clock.sleep(opts.sampleIntervalMs, controller.signal).catch(() => {})
      if (controller.signal.aborted) break
      let s: Sample
      if (opts.direction === 'download') {
        s = { tMs: clock.now() - t0, bytes: total() }
      } else {
        const p = await pollServerBytes().catch(() => null)
        if (p === null) continue
        serverBytes.value = p.bytes
        s = { tMs: p.atMs, bytes: p.bytes }
      }
      const prev = samples[samples.length - 1] as Sample
      if (s.tMs <= prev.tMs) continue
      samples.push(s)
      opts.onSample?.(s, clients.length - (progressClient === null ? 0 : 1))
      const elapsed = clock.now() - t0
      const allDone = streamErrors >= opts.streams
      if (elapsed >= opts.maxMs || allDone || byteCapped || (opts.shouldStop?.(samples) ?? false)) stopped = true
    }
  } finally {
    stopped = true
    await staggered
    if (opts.direction === 'download') {
      controller.abort()
    }
    await Promise.all(streamPromises)
    controller.abort()
    opts.signal?.removeEventListener('abort', onOuterAbort)
    await Promise.all(clients.map(async (c) => { await c.destroy().catch(() => {}) }))
  }

  const totalBytes = opts.direction === 'download' ? total() : Math.max(serverBytes.value, perStream.reduce((a, b) => a + b, 0))
  return {
    samples,
    streamsStarted: opts.direction === 'upload' ? clients.length - 1 : clients.length,
    streamErrors,
    errors,
    byteCapped,
    countedAt: opts.direction === 'download' ? 'client' : 'server',
    totalBytes,
    testId
  }
}
