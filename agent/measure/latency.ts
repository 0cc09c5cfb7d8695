import net, { isIP } from 'node:net'
import tls from 'node:tls'
import { lookup } from 'node:dns/promises'
import type { ConnectionInfo } from './connection-info.js'
import { HttpPinger } from './http-pinger.js'
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

/**
 * Idle latency: `count` HTTP pings on one warm keep-alive connection, spaced 50–150 ms at
 * random so they do not beat against periodic cross traffic. The connection is warmed by a
 * first ping that is not counted (its time includes the TCP handshake).
 */
export async function idleLatency ({ origin, count = 20, clock, random = Math.random, signal, family, onConnect, onPing }: {
  origin: string
  count?: number
  clock: ProbeClock
  random?: () => number
  signal?: AbortSignal
  family?: 4 | 6
  onConnect?: (info: ConnectionInfo) => void
  onPing?: (done: number, total: number) => void
}): Promise<number[]> {
  const pinger = new HttpPinger(origin, { ...(family === undefined ? {} : { family }), ...(onConnect === undefined ? {} : { onConnect }) })
  try {
    await pinger.ping(clock, signal)
    const samples: number[] = []
    for (let i = 0; i < count; i++) {
      samples.push(await pinger.ping(clock, signal))
      onPing?.(i + 1, count)
      if (i < count - 1) await clock.sleep(50 + random() * 100, signal)
    }
    return samples
  } finally {
    pinger.close()
  }
}

export interface ColdConnectTimes { tcpMs: number, tlsMs: number | null, ttfbMs: number }

/**
 * One cold connection, timed in parts (the RPM draft's "foreign" probe): TCP handshake,
 * TLS handshake (https only), then request written to first response byte. Name lookup
 * happens first and is not counted, so the figures describe the path, not the resolver.
 */
export async function coldConnect ({ url, clock, family, timeoutMs = 5000 }: { url: string, clock: ProbeClock, family?: 4 | 6, timeoutMs?: number }): Promise<ColdConnectTimes> {
  const u = new URL(url)
  const https = u.protocol === 'https:'
  const host = u.hostname.replace(/^\[|\]$/g, '')
  const port = Number(u.port === '' ? (https ? 443 : 80) : u.port)
  const { address } = await lookup(host, family === undefined ? {} : { family })
  return await new Promise<ColdConnectTimes>((resolve, reject) => {
    let tcpMs = 0
    let tlsMs: number | null = null
    let sentAt = 0
    const t0 = clock.now()
    const sock = net.connect({ host: address, port, noDelay: true })
    let active: net.Socket = sock
    const timer = setTimeout(() => { fail(new Error(`cold connect to ${u.host} timed out after ${timeoutMs} ms`)) }, timeoutMs)
    function fail (err: Error): void { clearTimeout(timer); active.destroy(); sock.destroy(); reject(err) }
    function request (s: net.Socket): void {
      active = s
      s.once('data', () => {
        clearTimeout(timer)
        const ttfbMs = clock.now() - sentAt
        s.destroy()
        resolve({ tcpMs, tlsMs, ttfbMs })
      })
      sentAt = clock.now()
      s.write(`GET ${PATHS.ping} HTTP/1.1\r\nHost: ${u.host}\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n`)
    }
    sock.once('error', fail)
    sock.once('connect', () => {
      tcpMs = clock.now() - t0
      if (!https) { request(sock); return }
      const t1 = clock.now()
      const secure = tls.connect({ socket: sock, ALPNProtocols: ['http/1.1'], ...(isIP(host) === 0 ? { servername: host } : {}) })
      active = secure
      secure.once('error', fail)
      secure.once('secureConnect', () => { tlsMs = clock.now() - t1; request(secure) })
    })
  })
}

/** `count` cold connects; the medians of each part, or null when every attempt failed. */
export async function coldConnects ({ count = 3, ...opts }: { url: string, clock: ProbeClock, family?: 4 | 6, count?: number }): Promise<{ tcpMs: number | null, tlsMs: number | null, ttfbMs: number | null, n: number }> {
  const got: ColdConnectTimes[] = []
  for (let i = 0; i < count; i++) {
    try { got.push(await coldConnect(opts)) } catch { /* a failed attempt is counted by n */ }
  }
  const r = (v: number | null): number | null => v === null ? null : Math.round(v * 1000) / 1000
  const tls = got.map((g) => g.tlsMs).filter((v): v is number => v !== null)
  return {
    tcpMs: r(median(got.map((g) => g.tcpMs))),
    tlsMs: r(tls.length === 0 ? null : median(tls)),
    ttfbMs: r(median(got.map((g) => g.ttfbMs))),
    n: got.length
  }
}
