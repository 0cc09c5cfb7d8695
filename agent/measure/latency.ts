import { Client } from 'undici'
import { PATHS } from '../../shared/protocol.js'
import { interquartileMean, mean, meanAbsoluteDelta, median, min, percentile, rfc3550Jitter } from '../../shared/stats.js'
import type { LatencyStats } from '../../shared/schemas/result.js'
import type { ProbeClock } from './context.js'

export function latencyStats (samplesMs: readonly number[]): LatencyStats {
  const r = (v: number | null): number | null => v === null ? null : Math.round(v * 1000) / 1000
  return {
    n: samplesMs.length,
    minMs: r(min(samplesMs)),
    medianMs: r(median(samplesMs)),
    meanMs: r(mean(samplesMs)),
    p90Ms: r(percentile(samplesMs, 90)),
    iqmMs: r(interquartileMean(samplesMs)),
    jitterMs: r(meanAbsoluteDelta(samplesMs)),
    jitterRfc3550Ms: r(rfc3550Jitter(samplesMs)),
    samplesMs: samplesMs.map((v) => Math.round(v * 1000) / 1000)
  }
}

/** One HTTP ping on an open connection: request sent to response fully read, ms. */
export async function httpPing (client: Client, clock: ProbeClock, signal?: AbortSignal): Promise<number> {
  const t = clock.now()
  const { statusCode, body } = await client.request({ path: PATHS.ping, method: 'GET', headers: { 'accept-encoding': 'identity' }, ...(signal === undefined ? {} : { signal }) })
  await body.dump()
  const rtt = clock.now() - t
  if (statusCode !== 204 && statusCode !== 200) throw new Error(`ping: HTTP ${statusCode}`)
  return rtt
}

/**
 * Idle latency: `count` HTTP pings on one warm keep-alive connection, spaced 50–150 ms at
 * random so they do not beat against periodic cross traffic. The connection is warmed by a
 * first ping that is not counted (its time includes the TCP handshake).
 */
export async function idleLatency ({ origin, count = 20, clock, random = Math.random, signal, connect, onPing }: {
  origin: string
  count?: number
  clock: ProbeClock
  random?: () => number
  signal?: AbortSignal
  connect?: { family?: 4 | 6 }
  onPing?: (done: number, total: number) => void
}): Promise<number[]> {
  const client = new Client(origin, {
    pipelining: 1,
    keepAliveTimeout: 30_000,
    connect: { noDelay: true, ...(connect?.family !== undefined ? { family: connect.family } : {}) }
  })
  try {
    await httpPing(client, clock, signal)
    const samples: number[] = []
    for (let i = 0; i < count; i++) {
      samples.push(await httpPing(client, clock, signal))
      onPing?.(i + 1, count)
      if (i < count - 1) await clock.sleep(50 + random() * 100, signal)
    }
    return samples
  } finally {
    await client.close().catch(() => {})
  }
}
