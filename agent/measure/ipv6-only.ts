import { Resolver } from 'node:dns/promises'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import type { LookupFunction } from 'node:net'
import { NAT64_PREFIX_LENGTHS, type Ipv6OnlyResult, type Ipv6OnlyService, type ResultRecord } from '../../shared/schemas/result.js'
import type { ProbeClock } from './context.js'
import { emptyRecord } from './record.js'

/**
 * IPv6-only readiness (docs/methodology.md §10.1), for the national goal of IPv6-only state
 * agencies by 2030. Three questions, each answered over IPv6 alone:
 * - DNS64/NAT64 (RFC 7050 §3): the AAAA records of ipv4only.arpa, a name with only A records
 *   (192.0.0.170 and 192.0.0.171); an AAAA answer is synthesised, and where the well-known
 *   address sits in it (RFC 6052 §2.2) gives the NAT64 prefix and its length.
 * - IPv6 connectivity: a TCP connection to the test server's IPv6 address.
 * - The national e-services: each name's AAAA, then an HTTP request to that address only.
 * The line could run IPv6-only today when IPv6 works and NAT64/DNS64 is present (IPv4-only
 * sites stay reachable), or when every listed service answers over IPv6 on its own.
 * Resolver, connections and clock are parameters, so tests drive it with servers of their own.
 */
export const WELL_KNOWN_NAME = 'ipv4only.arpa'
const WELL_KNOWN_V4 = [[192, 0, 0, 170], [192, 0, 0, 171]]

export interface Ipv6OnlyIo {
  /** AAAA lookup; rejects with a `code` (ENODATA/ENOTFOUND: no AAAA) like node:dns. */
  resolve6: (name: string) => Promise<string[]>
  /** A TCP connection to an IPv6 address; resolves once connected (then closed). */
  connect6: (address: string, port: number, timeoutMs: number, signal?: AbortSignal) => Promise<void>
  /** One HTTP(S) GET of `url` sent to `address` (IPv6) only; resolves with the status. */
  get6: (url: URL, address: string, timeoutMs: number, signal?: AbortSignal) => Promise<number>
}

export interface Ipv6OnlyOptions {
  /** The test server (its IPv6 address is the connectivity check). */
  server: string
  /** National e-services that must answer over IPv6 alone. */
  services: readonly string[]
  clock: ProbeClock
  io?: Partial<Ipv6OnlyIo>
  timeoutMs?: number
  signal?: AbortSignal
}

/** The 16 bytes of an IPv6 address (a trailing dotted quad allowed), or null. */
function bytesOf (address: string): number[] | null {
  if (!net.isIPv6(address)) return null
  let text = address.toLowerCase()
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (quad !== null) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number]
    text = text.slice(0, quad.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, null]
  const words = (s: string): number[] => s === '' ? [] : s.split(':').map((g) => parseInt(g, 16))
  const h = words(head)
  const t = tail === null ? [] : words(tail)
  const all = tail === null ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t]
  return all.flatMap((w) => [w >> 8, w & 0xff])
}

/** The IPv6 text form of 16 bytes, compressed as RFC 5952 says (the WHATWG URL parser does it). */
function formatV6 (bytes: number[]): string {
  const words = Array.from({ length: 8 }, (_, i) => (((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0)).toString(16))
  return new URL(`http://[${words.join(':')}]/`).hostname.slice(1, -1)
}

/** The 32 bits embedded after a prefix of `length` bits; bits 64–71 (the "u" octet) are skipped (RFC 6052 §2.2). */
function embeddedV4 (bytes: number[], length: number): number[] {
  const out: number[] = []
  for (let i = length / 8; out.length < 4 && i < 16; i++) if (i !== 8) out.push(bytes[i] as number)
  return out
}

/** The NAT64 prefix of a synthesised ipv4only.arpa AAAA (RFC 7050 §3), or null when it embeds neither well-known address. */
export function nat64PrefixOf (address: string): { prefix: string, length: typeof NAT64_PREFIX_LENGTHS[number] } | null {
  const bytes = bytesOf(address)
  if (bytes === null || bytes.length !== 16) return null
  // From the longest prefix down: 64:ff9b::c000:aa must read as /96, not as a shorter prefix by accident.
  for (const length of [...NAT64_PREFIX_LENGTHS].reverse()) {
    const v4 = embeddedV4(bytes, length)
    if (!WELL_KNOWN_V4.some((w) => w.every((b, i) => v4[i] === b))) continue
    if (length < 96 && bytes[8] !== 0) continue // the u octet must be zero
    const prefix = bytes.map((b, i) => i < length / 8 ? b : 0)
    return { prefix: `${formatV6(prefix)}/${length}`, length }
  }
  return null
}

const NO_RECORD = new Set(['ENODATA', 'ENOTFOUND', 'NODATA', 'NOTFOUND'])
const codeOf = (err: unknown): string => (err as { code?: string }).code ?? (err instanceof Error ? err.message : String(err))

async function dns64 (io: Ipv6OnlyIo): Promise<Ipv6OnlyResult['dns64']> {
  let addresses: string[]
  try {
    addresses = await io.resolve6(WELL_KNOWN_NAME)
  } catch (err) {
    const code = codeOf(err)
    if (NO_RECORD.has(code)) return { found: false, prefixes: [], addresses: [], detail: `${WELL_KNOWN_NAME} has no AAAA: the resolver does no DNS64 (${code})` }
    return { found: null, prefixes: [], addresses: [], detail: `AAAA ${WELL_KNOWN_NAME} failed: ${code}`.slice(0, 300) }
  }
  const seen = new Map<string, NonNullable<ReturnType<typeof nat64PrefixOf>>>()
  for (const a of addresses) { const p = nat64PrefixOf(a); if (p !== null) seen.set(p.prefix, p) }
  const prefixes = [...seen.values()].slice(0, 8)
  return {
    found: prefixes.length > 0,
    prefixes,
    addresses: addresses.slice(0, 8),
    detail: prefixes.length > 0 ? `DNS64 synthesises AAAA; NAT64 prefix ${prefixes.map((p) => p.prefix).join(', ')}` : `AAAA ${addresses.join(', ')} embeds neither 192.0.0.170 nor 192.0.0.171: not DNS64`.slice(0, 300)
  }
}

/** An IPv6 literal in a URL, or the name's first AAAA; `aaaa: null` when the lookup itself failed. */
async function addressOf (io: Ipv6OnlyIo, url: URL): Promise<{ aaaa: boolean | null, address: string | null, detail: string }> {
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (net.isIPv6(host)) return { aaaa: true, address: host, detail: 'IPv6 literal' }
  if (net.isIPv4(host)) return { aaaa: false, address: null, detail: 'IPv4 literal: nothing to reach over IPv6' }
  try {
    const list = await io.resolve6(host)
    return list[0] === undefined ? { aaaa: false, address: null, detail: `${host} has no AAAA` } : { aaaa: true, address: list[0], detail: '' }
  } catch (err) {
    const code = codeOf(err)
    return NO_RECORD.has(code) ? { aaaa: false, address: null, detail: `${host} has no AAAA (${code})` } : { aaaa: null, address: null, detail: `AAAA ${host} failed: ${code}` }
  }
}

const portOf = (url: URL): number => url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80

async function service (io: Ipv6OnlyIo, raw: string, clock: ProbeClock, timeoutMs: number, signal?: AbortSignal): Promise<Ipv6OnlyService> {
  let url: URL
  try { url = new URL(raw) } catch { return { url: raw.slice(0, 500), aaaa: null, address: null, ok: false, httpStatus: null, ms: null, detail: 'not a URL' } }
  const found = await addressOf(io, url)
  const base = { url: url.href.slice(0, 500), aaaa: found.aaaa, address: found.address }
  if (found.address === null) return { ...base, ok: found.aaaa === false ? false : null, httpStatus: null, ms: null, detail: found.detail.slice(0, 300) }
  const t0 = clock.now()
  try {
    const status = await io.get6(url, found.address, timeoutMs, signal)
    const ok = status < 500
    return { ...base, ok, httpStatus: status, ms: Math.round((clock.now() - t0) * 10) / 10, detail: ok ? `HTTP ${status} over IPv6` : `HTTP ${status} over IPv6: the service itself fails` }
  } catch (err) {
    return { ...base, ok: false, httpStatus: null, ms: null, detail: `over IPv6: ${codeOf(err)}`.slice(0, 300) }
  }
}

export const systemIpv6OnlyIo: Ipv6OnlyIo = {
  resolve6: async (name) => await new Resolver().resolve6(name),
  connect6: async (address, port, timeoutMs, signal) => await new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host: address, port, family: 6, timeout: timeoutMs, ...(signal === undefined ? {} : { signal }) })
    socket.once('connect', () => { socket.destroy(); resolve() })
    socket.once('timeout', () => { socket.destroy(); reject(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })) })
    socket.on('error', reject)
  }),
  get6: async (url, address, timeoutMs, signal) => await new Promise<number>((resolve, reject) => {
    // The name's own IPv6 address and nothing else: no A lookup, no fallback to IPv4.
    // Answered on the next tick like a real lookup: a synchronous answer lets a connect error
    // (ENETUNREACH at once on a host without the route) fire before the request listens for it.
    const lookup: LookupFunction = (_host, opts, cb) => {
      process.nextTick(() => {
        if ((opts as { all?: boolean }).all === true) (cb as unknown as (e: null, a: Array<{ address: string, family: number }>) => void)(null, [{ address, family: 6 }])
        else cb(null, address, 6)
      })
    }
    const req = (url.protocol === 'https:' ? https : http).request(url, { method: 'GET', family: 6, lookup, timeout: timeoutMs, headers: { 'user-agent': 'tocdo-agent ipv6-only' }, ...(signal === undefined ? {} : { signal }) }, (res) => {
      resolve(res.statusCode ?? 0)
      res.destroy()
    })
    req.once('timeout', () => { req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })) })
    req.on('error', reject)
    req.end()
  })
}

export async function ipv6OnlyReadiness (opts: Ipv6OnlyOptions): Promise<Ipv6OnlyResult> {
  const io: Ipv6OnlyIo = { ...systemIpv6OnlyIo, ...opts.io }
  const timeoutMs = opts.timeoutMs ?? 5000
  const found = await dns64(io)
  const services: Ipv6OnlyService[] = []
  for (const s of opts.services.slice(0, 20)) services.push(await service(io, s, opts.clock, timeoutMs, opts.signal))
  const server = new URL(opts.server)
  const target = await addressOf(io, server)
  let ipv6Connect: boolean | null = null
  if (target.address !== null) {
    ipv6Connect = await io.connect6(target.address, portOf(server), timeoutMs, opts.signal).then(() => true, () => false)
  }
  if (ipv6Connect !== true && services.some((s) => s.ok === true)) ipv6Connect = true
  const allServices = services.length > 0 && services.every((s) => s.ok === true)
  const viaNat64 = ipv6Connect === true && found.found === true
  const basis = viaNat64 ? 'nat64' : allServices ? 'services' : null
  const failing = services.filter((s) => s.ok !== true).map((s) => new URL(s.url).hostname)
  const reason = basis === 'nat64'
    ? `IPv6 works and NAT64 (${found.prefixes.map((p) => p.prefix).join(', ')}) reaches IPv4-only sites`
    : basis === 'services'
      ? `every listed service answers over IPv6 (no NAT64${found.found === null ? ' known' : ''} for other sites)`
      : ipv6Connect !== true
        ? 'no working IPv6 connection'
        : `no NAT64/DNS64, and ${failing.length} listed service(s) not reachable over IPv6: ${failing.join(', ')}`
  return { dns64: found, ipv6Connect, services, ready: basis !== null, basis, reason: reason.slice(0, 300) }
}

/** The readiness check as a record of its own (kind 'ipv6_only'). */
export async function runIpv6OnlyCheck (opts: Ipv6OnlyOptions & { clockInfo?: ResultRecord['clock'], context?: Partial<ResultRecord['context']> }): Promise<ResultRecord> {
  const record = emptyRecord('ipv6_only', { measuredAt: opts.clock.wall(), ...(opts.clockInfo === undefined ? {} : { clockInfo: opts.clockInfo }), ...(opts.context === undefined ? {} : { context: opts.context }) })
  const t0 = opts.clock.now()
  record.server = { url: new URL(opts.server).origin, address: null, family: null, candidates: [] }
  try {
    record.ipv6Only = await ipv6OnlyReadiness(opts)
  } catch (err) {
    record.status = 'failed'
    record.error = { code: 'TOCDO_ERR_MEASUREMENT_FAILED', detail: `ipv6-only readiness: ${err instanceof Error ? err.message : String(err)}`.slice(0, 1000) }
  }
  record.durationMs = Math.round(opts.clock.now() - t0)
  return record
}
