import net from 'node:net'
import { lookup } from 'node:dns/promises'
import type { LatencyTarget, ResultRecord } from '../../shared/schemas/result.js'
import { median, min, percentile } from '../../shared/stats.js'
import type { ProbeClock } from './context.js'
import { connectFailureClass } from './ipv6.js'
import { emptyRecord, messageOf } from './record.js'

/**
 * The light latency task between speed tests (methodology.md §9, fleet-protocol.md):
 * TCP-connect RTT × 10, 200 ms apart, to each target, separately over IPv4 and IPv6. TCP
 * needs no admin rights and no parsing of localised `ping` output, unlike ICMP. The SYN /
 * SYN-ACK exchange is one round trip; the server's accept queue adds nothing measurable.
 */
export interface LatencyCheckOptions {
  servers: readonly string[]
  clock: ProbeClock
  count?: number
  spacingMs?: number
  families?: ReadonlyArray<4 | 6>
  timeoutMs?: number
  seq?: number | null
  clockInfo?: ResultRecord['clock']
  context?: Partial<ResultRecord['context']>
  signal?: AbortSignal
}

export async function tcpConnectRtt ({ address, port, clock, timeoutMs = 3000 }: { address: string, port: number, clock: ProbeClock, timeoutMs?: number }): Promise<number> {
  return await new Promise((resolve, reject) => {
    const t0 = clock.now()
    const sock = net.connect({ host: address, port, noDelay: true })
    const timer = setTimeout(() => { sock.destroy(); reject(Object.assign(new Error(`connect timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' })) }, timeoutMs)
    sock.once('connect', () => { const rtt = clock.now() - t0; clearTimeout(timer); sock.destroy(); resolve(rtt) })
    sock.once('error', (err) => { clearTimeout(timer); sock.destroy(); reject(err) })
  })
}

async function oneTarget (url: URL, family: 4 | 6, opts: LatencyCheckOptions): Promise<LatencyTarget> {
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const port = Number(url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : url.port)
  const base: LatencyTarget = { url: url.origin, family, method: 'tcp_connect', attempts: 0, failures: 0, failureReasons: [], minMs: null, medianMs: null, p95Ms: null, samplesMs: [] }
  let address: string
  const literal = net.isIP(host)
  if (literal !== 0 && literal !== family) return { ...base, failureReasons: [`not run: server is an IPv${literal} literal`] }
  try {
    address = literal !== 0 ? host : (await lookup(host, { family })).address
  } catch (err) {
    return { ...base, failureReasons: [`no IPv${family} address for ${host}: ${messageOf(err)}`.slice(0, 200)] }
  }
  const count = opts.count ?? 10
  const samples: number[] = []
  const reasons = new Set<string>()
  let failures = 0
  for (let i = 0; i < count && opts.signal?.aborted !== true; i++) {
    try {
      samples.push(await tcpConnectRtt({ address, port, clock: opts.clock, timeoutMs: opts.timeoutMs ?? 3000 }))
    } catch (err) {
      failures++
      reasons.add(connectFailureClass(err))
    }
    if (i < count - 1) await opts.clock.sleep(opts.spacingMs ?? 200, opts.signal).catch(() => {})
  }
  const r = (v: number | null): number | null => v === null ? null : Math.round(v * 1000) / 1000
  return {
    ...base,
    attempts: samples.length + failures,
    failures,
    failureReasons: [...reasons],
    minMs: r(min(samples)),
    medianMs: r(median(samples)),
    p95Ms: r(percentile(samples, 95)),
    samplesMs: samples.map((v) => r(v) as number)
  }
}

export async function runLatencyCheck (opts: LatencyCheckOptions): Promise<ResultRecord> {
  const { clock } = opts
  if (opts.servers.length === 0) throw new Error('runLatencyCheck needs at least one server')
  const record = emptyRecord('latency', { measuredAt: clock.wall(), seq: opts.seq ?? null, ...(opts.clockInfo === undefined ? {} : { clockInfo: opts.clockInfo }), ...(opts.context === undefined ? {} : { context: opts.context }) })
  const t0 = clock.now()
  const families = opts.families ?? [4, 6]
  const jobs = opts.servers.flatMap((s) => families.map((f) => ({ url: new URL(s), family: f })))
  const targets = await Promise.all(jobs.map(async (j) => await oneTarget(j.url, j.family, opts)))
  record.latency = { idle: null, targets }
  record.server = { url: new URL(opts.servers[0] as string).origin, address: null, family: null, candidates: [] }
  const measured = targets.filter((t) => t.samplesMs.length > 0)
  if (measured.length === 0) {
    record.status = 'failed'
    record.error = { code: 'TOCDO_ERR_SERVER_UNREACHABLE', detail: targets.map((t) => `${t.url} IPv${t.family}: ${t.failureReasons.join(', ') || 'no samples'}`).join('; ').slice(0, 1000) }
  } else if (targets.some((t) => t.failures > 0)) {
    record.status = 'partial'
  }
  record.durationMs = Math.round(clock.now() - t0)
  return record
}
