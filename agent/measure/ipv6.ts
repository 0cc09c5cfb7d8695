import { lookup } from 'node:dns/promises'
import { getDefaultAutoSelectFamily, isIP } from 'node:net'
import { PATHS } from '../../shared/protocol.js'
import type { Ipv6Check, Ipv6Result } from '../../shared/schemas/result.js'
import { median } from '../../shared/stats.js'
import type { ProbeClock } from './context.js'
import { Http1Connection } from './http1.js'
import { DOWNLOAD_WARMUP, throughputFigures } from './goodput.js'
import { idleLatency } from './latency.js'
import { errorCode, messageOf } from './record.js'
import { runTransfer } from './transfer.js'
import { hasIpv6DefaultRoute, ipv6Addresses } from '../platform/link.js'

/**
 * IPv6 sub-tests (methodology.md §10), each reported on its own. Every network check forces
 * its address family and never falls back to the other: a silent fallback is how
 * blackbox_exporter hid broken IPv6 (prometheus/blackbox_exporter#302).
 */
export interface Ipv6Options {
  server: string
  clock: ProbeClock
  /** Pings per family. */
  pings?: number
  /** Run the short forced-IPv6 download (5 s, 4 streams). */
  forcedDownload?: boolean
  forcedDownloadMs?: number
  /** Family the main speed test used, as its server saw it; measured here when absent. */
  mainTestFamily?: 4 | 6 | null
  signal?: AbortSignal
  /** Injectable host facts, for tests. */
  host?: {
    addresses?: () => ReturnType<typeof ipv6Addresses>
    defaultRoute?: () => Promise<boolean | null>
    resolve?: (host: string, family: 4 | 6) => Promise<string[]>
  }
}

const defaultResolve = async (host: string, family: 4 | 6): Promise<string[]> =>
  (await lookup(host, { family, all: true })).map((a) => a.address)

/** Failure class of a forced-family connection (methodology.md §10 table). */
export function connectFailureClass (err: unknown): string {
  const code = errorCode(err)
  switch (code) {
    case 'ENETUNREACH': return 'enetunreach'
    case 'EHOSTUNREACH': return 'ehostunreach'
    case 'ECONNREFUSED': return 'refused'
    case 'ETIMEDOUT': return 'timeout'
    case 'EADDRNOTAVAIL': return 'no_source_address'
    case 'EAFNOSUPPORT': return 'family_not_supported'
    default: return code === null ? 'error' : code.toLowerCase()
  }
}

function dnsFailureClass (err: unknown): string {
  const code = errorCode(err)
  if (code === 'ENOTFOUND' || code === 'ENODATA' || code === 'EAI_NODATA' || code === 'EAI_NONAME') return 'no_aaaa'
  if (code === 'ESERVFAIL') return 'servfail'
  if (code === 'ETIMEOUT' || code === 'EAI_AGAIN') return 'timeout'
  return code === null ? 'error' : code.toLowerCase()
}

/** The family the server saw this agent's connection arrive on, when the OS picks it. */
export async function serverSeenFamily (origin: string, family?: 4 | 6): Promise<{ family: 4 | 6 | null, address: string | null }> {
  const conn = await Http1Connection.open(origin, { ...(family === undefined ? {} : { family }), timeoutMs: 5000 })
  try {
    const res = await conn.request({ method: 'GET', path: PATHS.info, collect: true })
    if (res.status !== 200) return { family: null, address: null }
    const info = JSON.parse(res.body.toString('utf8')) as { client?: { family?: unknown, address?: unknown } }
    const f = info.client?.family
    return { family: f === 4 || f === 6 ? f : null, address: typeof info.client?.address === 'string' ? info.client.address.slice(0, 64) : null }
  } finally {
    conn.close()
  }
}

export async function ipv6Checks (opts: Ipv6Options): Promise<Ipv6Result> {
  const { clock } = opts
  const url = new URL(opts.server)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const resolve = opts.host?.resolve ?? defaultResolve
  const checks: Ipv6Check[] = []
  const failures: string[] = []
  const check = (name: string, ok: boolean | null, detail: string, failure?: string): void => {
    checks.push({ name, ok, detail: detail.slice(0, 300) })
    if (ok === false && failure !== undefined) failures.push(`${name}:${failure}`)
  }

  // addr: a global unicast address, not link-local, ULA or a transition prefix.
  const addrs = (opts.host?.addresses ?? ipv6Addresses)()
  const global = addrs.filter((a) => a.cls === 'global')
  const globalAddress = global.length > 0
  check('addr', globalAddress,
    globalAddress
      ? `${global.length} global address(es) on ${[...new Set(global.map((a) => a.iface))].join(', ')}`
      : addrs.length === 0 ? 'no IPv6 address at all' : `only ${[...new Set(addrs.map((a) => a.cls))].join(', ')} addresses`,
    addrs.some((a) => a.cls === 'ula') ? 'ula_only' : addrs.some((a) => a.cls === 'teredo' || a.cls === '6to4') ? 'transition_only' : 'no_global_address')

  const route = await (opts.host?.defaultRoute ?? hasIpv6DefaultRoute)()
  check('route', route, route === null ? 'no route table readable on this platform' : route ? 'default route ::/0 present' : 'no default route ::/0', 'no_default_route')

  // dns_aaaa / dns_a: what the test server's name resolves to, per family.
  const literal = isIP(host)
  const names: Record<4 | 6, string[] | null> = { 4: null, 6: null }
  for (const fam of [6, 4] as const) {
    const name = fam === 6 ? 'dns_aaaa' : 'dns_a'
    if (literal !== 0) {
      names[fam] = literal === fam ? [host] : null
      check(name, literal === fam ? true : null, literal === fam ? `server URL is an IPv${fam} literal` : `server URL is an IPv${literal} literal; no IPv${fam} address to try`)
      continue
    }
    try {
      const got = await resolve(host, fam)
      names[fam] = got
      check(name, got.length > 0, got.length > 0 ? `${host} → ${got.slice(0, 3).join(', ')}` : `${host} has no ${fam === 6 ? 'AAAA' : 'A'} record`, fam === 6 ? 'no_aaaa' : 'no_a')
    } catch (err) {
      check(name, false, `${host}: ${messageOf(err)}`, dnsFailureClass(err))
    }
  }

  // connect6 / connect4: a connection and pings forced to each family.
  const medians: Record<4 | 6, number | null> = { 4: null, 6: null }
  const connected: Record<4 | 6, boolean | null> = { 4: null, 6: null }
  for (const fam of [6, 4] as const) {
    const name = `connect${fam}`
    if (names[fam] === null || names[fam]?.length === 0) { check(name, null, `not run: no IPv${fam} address for ${host}`); continue }
    try {
      const rtts = await idleLatency({ origin: url.origin, count: opts.pings ?? 5, clock, family: fam, random: () => 0, ...(opts.signal === undefined ? {} : { signal: opts.signal }) })
      connected[fam] = true
      medians[fam] = Math.round((median(rtts) as number) * 1000) / 1000
      check(name, true, `${rtts.length} HTTP pings over IPv${fam}, median ${medians[fam]} ms`)
    } catch (err) {
      connected[fam] = false
      check(name, false, `IPv${fam} connection to ${url.host} failed: ${messageOf(err)}`, connectFailureClass(err))
    }
  }

  // mainTestFamily: as the server saw it (ndt7's ConnectionInfo.Client idea).
  let mainTestFamily = opts.mainTestFamily ?? null
  if (opts.mainTestFamily === undefined) {
    try {
      mainTestFamily = (await serverSeenFamily(url.origin)).family
      check('preferred', mainTestFamily === null ? null : mainTestFamily === 6, mainTestFamily === null ? 'server did not report the client family' : `with the OS choosing, the server saw IPv${mainTestFamily}`)
    } catch (err) {
      check('preferred', null, `could not ask the server: ${messageOf(err)}`)
    }
  }

  let forcedV6Mbps: number | null = null
  if (opts.forcedDownload === true) {
    if (connected[6] !== true) {
      check('forced_v6_download', null, 'not run: no working IPv6 connection')
    } else {
      const t = await runTransfer({
        origin: url.origin,
        direction: 'download',
        streams: 4,
        maxStreams: 4,
        maxMs: opts.forcedDownloadMs ?? 5000,
        byteCap: 4 * 1024 ** 3,
        staggerMs: 200,
        sampleIntervalMs: 100,
        clock,
        warmup: { minS: 1, maxS: 2 },
        earlyStop: null,
        loadedProbeIntervalMs: null,
        family: 6,
        ...(opts.signal === undefined ? {} : { signal: opts.signal })
      })
      const f = throughputFigures(t.samples, { ...DOWNLOAD_WARMUP, maxS: 2 })
      forcedV6Mbps = f.goodputMbps === null ? null : Math.round(f.goodputMbps * 1000) / 1000
      const ok = forcedV6Mbps !== null && t.streamErrors < t.streamsStarted
      check('forced_v6_download', ok, ok ? `${forcedV6Mbps} Mbps over IPv6, 4 streams, ${f.durationS.toFixed(1)} s` : `failed: ${t.errors[0] ?? 'no bytes'}`, 'download_failed')
    }
  }

  return {
    state: classifyIpv6State({ globalAddress, connect6: connected[6] }),
    globalAddress,
    aaaa: names[6] === null ? null : names[6].length > 0,
    connect6: connected[6],
    connect4: connected[4],
    ping6MedianMs: medians[6],
    ping4MedianMs: medians[4],
    mainTestFamily,
    forcedV6Mbps,
    failures,
    autoSelectFamily: getDefaultAutoSelectFamily(),
    checks
  }
}

/**
 * works: an IPv6 connection to the test server succeeded. broken: the host has a global
 * IPv6 address but IPv6 connections fail. capable: a global address, but nothing to test
 * it against (the server has no AAAA). none: no global address and no IPv6 connection.
 */
export function classifyIpv6State ({ globalAddress, connect6 }: { globalAddress: boolean, connect6: boolean | null }): Ipv6Result['state'] {
  if (connect6 === true) return 'works'
  if (globalAddress && connect6 === false) return 'broken'
  if (globalAddress) return 'capable'
  return 'none'
}
