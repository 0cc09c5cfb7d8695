import { performance } from 'node:perf_hooks'
import type { FastifyRequest } from 'fastify'
import type { TcpInfo, TcpInfoReader } from './tcp-info.js'
import type { ServerTcp, ServerTestSummary } from '../../shared/schemas/result.js'

/**
 * The server's own counters of one test, keyed by its test id (issue 10, item 3): what the
 * server sent and received, how long its download streams waited on back-pressure, the
 * proxy headers its requests carried, and the kernel's TCP_INFO of its connections. The
 * agent fetches them (GET /speedtest/summary?test=…) while its streams are still open and
 * sets server_limited, client_rwnd_limited, proxied and count_mismatch from them.
 */
interface Conn { kind: 'download' | 'upload', peer: string, localPort: number, openedAt: number }

interface TestState {
  downloadBytes: number
  uploadBytes: number
  requests: number
  /** Time download streams had data ready but the socket refused more (back-pressure), ms. */
  blockedMs: number
  conns: Map<string, Conn>
  proxyHeaders: Set<string>
  clientAddresses: Set<string>
  touchedAt: number
}

/** Request headers only a proxy or load balancer adds. */
const PROXY_HEADERS = ['via', 'forwarded', 'x-forwarded-for', 'x-real-ip'] as const

/** `address:port` as ss prints a peer: IPv6 in brackets, IPv4-mapped addresses as IPv4. */
export function peerKey (address: string | undefined, port: number | undefined): string {
  const a = (address ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '')
  return a.includes(':') ? `[${a}]:${port ?? 0}` : `${a}:${port ?? 0}`
}

type TcpSummary = ServerTcp
type TestSummary = ServerTestSummary

export class TestCounters {
  readonly #tests = new Map<string, TestState>()
  readonly #readTcp: TcpInfoReader

  constructor (readTcp: TcpInfoReader) { this.#readTcp = readTcp }

  /** The state of `testId`, created on first use; every request of a test passes here. */
  seen (testId: string, request: FastifyRequest, kind: 'download' | 'upload' | null): TestState {
    let s = this.#tests.get(testId)
    const now = performance.now()
    if (s === undefined) {
      s = { downloadBytes: 0, uploadBytes: 0, requests: 0, blockedMs: 0, conns: new Map(), proxyHeaders: new Set(), clientAddresses: new Set(), touchedAt: now }
      this.#tests.set(testId, s)
    }
    s.touchedAt = now
    s.requests++
    const sock = request.raw.socket
    if (sock.remoteAddress !== undefined && s.clientAddresses.size < 8) s.clientAddresses.add(sock.remoteAddress)
    for (const h of PROXY_HEADERS) {
      const v = request.headers[h]
      if (v !== undefined && s.proxyHeaders.size < 8) s.proxyHeaders.add(`${h}: ${String(v).slice(0, 200)}`)
    }
    if (kind !== null) {
      const peer = peerKey(sock.remoteAddress, sock.remotePort)
      if (!s.conns.has(peer)) s.conns.set(peer, { kind, peer, localPort: sock.localPort ?? 0, openedAt: now })
    }
    return s
  }

  sweep (maxIdleMs = 60_000): void {
    const t = performance.now()
    for (const [id, s] of this.#tests) if (t - s.touchedAt > maxIdleMs) this.#tests.delete(id)
  }

  async summary (testId: string): Promise<TestSummary> {
    const s = this.#tests.get(testId)
    const empty: TestSummary = { test: testId, known: false, download: { bytes: 0, connections: 0, blockedMs: 0, tcp: null }, upload: { bytes: 0, connections: 0, tcp: null }, tcpUnavailable: null, proxyHeaders: [], clientAddresses: [], requests: 0 }
    if (s === undefined) return empty
    const ports = [...new Set([...s.conns.values()].map((c) => c.localPort))]
    const byPeer = new Map<string, TcpInfo>()
    let tcpUnavailable: string | null = null
    for (const port of ports) {
      const r = await this.#readTcp(port)
      if (r.sockets === null) { tcpUnavailable = r.reason; continue }
      for (const t of r.sockets) byPeer.set(t.peer, t)
    }
    const now = performance.now()
    const tcpOf = (kind: 'download' | 'upload'): TcpSummary | null => {
      const conns = [...s.conns.values()].filter((c) => c.kind === kind)
      const found = conns.flatMap((c) => { const t = byPeer.get(c.peer); return t === undefined ? [] : [{ c, t }] })
      if (found.length === 0) return null
      const sum = (f: (t: TcpInfo) => number): number => found.reduce((a, x) => a + f(x.t), 0)
      const elapsedMs = found.reduce((a, x) => a + (now - x.c.openedAt), 0)
      const busyMs = sum((t) => t.busyMs)
      const rtts = found.map((x) => x.t.minRttMs).filter((v): v is number => v !== null)
      return {
        sockets: found.length,
        elapsedMs: Math.round(elapsedMs),
        busyMs,
        rwndLimitedMs: sum((t) => t.rwndLimitedMs),
        sndbufLimitedMs: sum((t) => t.sndbufLimitedMs),
        idleMs: Math.max(0, Math.round(elapsedMs - busyMs)),
        bytesSent: sum((t) => t.bytesSent),
        bytesAcked: sum((t) => t.bytesAcked),
        bytesRetrans: sum((t) => t.bytesRetrans),
        bytesReceived: sum((t) => t.bytesReceived),
        minRttMs: rtts.length === 0 ? null : Math.min(...rtts)
      }
    }
    const count = (kind: 'download' | 'upload'): number => [...s.conns.values()].filter((c) => c.kind === kind).length
    return {
      test: testId,
      known: true,
      download: { bytes: s.downloadBytes, connections: count('download'), blockedMs: Math.round(s.blockedMs), tcp: tcpOf('download') },
      upload: { bytes: s.uploadBytes, connections: count('upload'), tcp: tcpOf('upload') },
      tcpUnavailable,
      proxyHeaders: [...s.proxyHeaders],
      clientAddresses: [...s.clientAddresses],
      requests: s.requests
    }
  }
}

export type { TestState }
