import net from 'node:net'
import type dnsPacket from 'dns-packet'
import { DnsQueryError, recordsOf, type DnsQueryFn, type DnsReply, type DnsServer } from './dns-client.js'
import type { httpsStatus, smtpProbe } from './net-probes.js'

import { CHECK_NAMES, type CheckName, type CheckResult, type Colour } from '../../shared/ipv6-checks.js'

export { CHECK_NAMES, type CheckName, type CheckResult, type Colour }

/** Everything a check touches, passed in so tests can aim it at loopback servers. */
export interface ProbeContext {
  query: DnsQueryFn
  resolver: DnsServer
  timeoutMs: number
  /** Port of authoritative name servers (53; tests use their loopback server's port). */
  dnsPort: number
  httpsPort: number
  smtpPort: number
  /** Open SMTP to MX hosts; many networks block outbound port 25. */
  smtp: boolean
  ca?: string | undefined
  /** 'global': only global unicast AAAA counts (production); 'any': loopback fixtures count too. */
  addressPolicy: 'global' | 'any'
  heloName: string
  https: typeof httpsStatus
  smtpProbe: typeof smtpProbe
  nowS: () => number
}

/** The resolver itself failed (timeout, unreachable): the run says nothing about the agency. */
export class ResolverUnavailableError extends Error {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ResolverUnavailableError'
  }
}

/**
 * A question to the recursive resolver. A timeout on one name is an answer about that name
 * (its servers are broken or lame: the public cannot resolve it either) and comes back as
 * rcode 'TIMEOUT'; a resolver that cannot be reached at all makes the run say nothing.
 */
export async function resolve (ctx: ProbeContext, name: string, type: dnsPacket.RecordType, dnssec = false): Promise<DnsReply> {
  try {
    return await ctx.query(ctx.resolver, name, type, { timeoutMs: ctx.timeoutMs, dnssec, checkingDisabled: dnssec, recursion: true })
  } catch (err) {
    if (err instanceof DnsQueryError && err.code === 'timeout') return { rcode: 'TIMEOUT', aa: false, ad: false, transport: 'udp', answers: [], authorities: [] }
    if (err instanceof DnsQueryError) throw new ResolverUnavailableError(`resolver ${ctx.resolver.address} port ${ctx.resolver.port}: ${err.message}`, { cause: err })
    throw err
  }
}

/** Asks the resolver for the root's SOA: any reply at all means it is up. */
export async function assertResolverUp (ctx: ProbeContext): Promise<void> {
  try {
    await ctx.query(ctx.resolver, '.', 'SOA', { timeoutMs: ctx.timeoutMs, recursion: true })
  } catch (err) {
    throw new ResolverUnavailableError(`resolver ${ctx.resolver.address} port ${ctx.resolver.port} does not answer: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}

export async function addresses (ctx: ProbeContext, name: string, type: 'AAAA' | 'A'): Promise<{ rcode: string, addresses: string[] }> {
  const reply = await resolve(ctx, name, type)
  return { rcode: reply.rcode, addresses: recordsOf(reply, type).map((r) => r.data) }
}

/** Global unicast: inside 2000::/3, and not documentation, Teredo or 6to4 (methodology.md §10). */
export function isGlobalUnicast (address: string): boolean {
  if (!net.isIPv6(address)) return false
  const first = address.toLowerCase().split(':')[0] ?? ''
  const word = first === '' ? 0 : parseInt(first, 16)
  if ((word & 0xe000) !== 0x2000) return false
  if (word === 0x2002) return false
  const second = parseInt(address.toLowerCase().split(':')[1] ?? '0', 16) || 0
  if (word === 0x2001 && (second === 0 || second === 0x0db8)) return false
  return true
}

const noName = (check: CheckName, what: string): CheckResult =>
  ({ check, target: '', colour: 'gray', reason: `no ${what} configured for this agency`, evidence: {} })

export async function checkWebAaaa (ctx: ProbeContext, host: string | null, label: string): Promise<CheckResult> {
  if (host === null) return noName('web_aaaa', label)
  const { rcode, addresses: aaaa } = await addresses(ctx, host, 'AAAA')
  const evidence = { rcode, aaaa }
  if (aaaa.length === 0) return { check: 'web_aaaa', target: host, colour: 'red', reason: rcode === 'NOERROR' ? `${host} has no AAAA record` : `${host}: ${rcode}`, evidence }
  const bad = ctx.addressPolicy === 'global' ? aaaa.filter((a) => !isGlobalUnicast(a)) : []
  if (bad.length > 0) return { check: 'web_aaaa', target: host, colour: 'yellow', reason: `AAAA not global unicast: ${bad.join(', ')}`, evidence }
  return { check: 'web_aaaa', target: host, colour: 'green', reason: `${aaaa.length} AAAA record(s)`, evidence }
}

export async function checkHttpsV6 (ctx: ProbeContext, host: string | null, label: string): Promise<CheckResult> {
  if (host === null) return noName('https_v6', label)
  const v6 = await addresses(ctx, host, 'AAAA')
  if (v6.addresses.length === 0) {
    return { check: 'https_v6', target: host, colour: 'red', reason: `${host} has no AAAA record`, evidence: { rcode: v6.rcode } }
  }
  const v4 = await addresses(ctx, host, 'A')
  const over4 = v4.addresses[0] === undefined
    ? null
    : await ctx.https({ address: v4.addresses[0], family: 4, host, port: ctx.httpsPort, timeoutMs: ctx.timeoutMs, ca: ctx.ca })
  const over6 = []
  for (const address of v6.addresses.slice(0, 4)) {
    over6.push({ address, ...(await ctx.https({ address, family: 6, host, port: ctx.httpsPort, timeoutMs: ctx.timeoutMs, ca: ctx.ca })) })
  }
  const evidence = { ipv6: over6, ipv4: over4 === null ? null : { address: v4.addresses[0], ...over4 } }
  for (const r of over6) {
    if (!r.ok) return { check: 'https_v6', target: host, colour: 'yellow', reason: `HTTPS over IPv6 to [${r.address}] failed: ${r.error} (${r.detail})`, evidence }
    if (over4 !== null && over4.ok && r.status !== over4.status) {
      return { check: 'https_v6', target: host, colour: 'yellow', reason: `status ${r.status} over IPv6 but ${over4.status} over IPv4`, evidence }
    }
    if ((over4 === null || !over4.ok) && r.status >= 500) {
      return { check: 'https_v6', target: host, colour: 'yellow', reason: `status ${r.status} over IPv6 (no IPv4 answer to compare with)`, evidence }
    }
  }
  const status = over6[0]?.ok === true ? over6[0].status : 0
  return { check: 'https_v6', target: host, colour: 'green', reason: `HTTPS over IPv6 answers ${status} with a valid certificate${over4?.ok === true ? ', same as IPv4' : ''}`, evidence }
}

export async function checkNsV6 (ctx: ProbeContext, zone: string | null): Promise<CheckResult> {
  if (zone === null) return { check: 'ns_v6', target: '', colour: 'gray', reason: 'DNS zone unknown: set dnsZone or a portal host', evidence: {} }
  const nsReply = await resolve(ctx, zone, 'NS')
  const hosts = recordsOf(nsReply, 'NS').map((r) => r.data)
  if (hosts.length === 0) return { check: 'ns_v6', target: zone, colour: 'red', reason: `${zone} has no NS records (${nsReply.rcode})`, evidence: { rcode: nsReply.rcode } }
  const servers: Array<{ host: string, aaaa: string[], answers: Array<{ address: string, ok: boolean, detail: string }> }> = []
  for (const host of hosts.slice(0, 8)) {
    const { addresses: aaaa } = await addresses(ctx, host, 'AAAA')
    const answers = []
    for (const address of aaaa.slice(0, 2)) {
      try {
        const r = await ctx.query({ address, port: ctx.dnsPort }, zone, 'SOA', { timeoutMs: ctx.timeoutMs, recursion: false })
        const ok = r.rcode === 'NOERROR' && r.aa && recordsOf(r, 'SOA').length > 0
        answers.push({ address, ok, detail: ok ? `authoritative SOA over ${r.transport}` : `rcode ${r.rcode}, aa=${r.aa}` })
      } catch (err) {
        answers.push({ address, ok: false, detail: err instanceof Error ? err.message : String(err) })
      }
    }
    servers.push({ host, aaaa, answers })
  }
  const evidence = { servers }
  const withV6 = servers.filter((s) => s.aaaa.length > 0)
  if (withV6.length === 0) return { check: 'ns_v6', target: zone, colour: 'red', reason: `none of ${hosts.length} NS hosts has an AAAA record`, evidence }
  const failing = withV6.flatMap((s) => s.answers.filter((a) => !a.ok).map((a) => `${s.host} [${a.address}]: ${a.detail}`))
  if (failing.length > 0) return { check: 'ns_v6', target: zone, colour: 'yellow', reason: `NS not answering over IPv6: ${failing.join('; ')}`, evidence }
  return { check: 'ns_v6', target: zone, colour: 'green', reason: `${withV6.length} of ${hosts.length} NS hosts answer over IPv6`, evidence }
}

export async function checkMxV6 (ctx: ProbeContext, domain: string | null): Promise<CheckResult> {
  if (domain === null) return noName('mx_v6', 'mail domain')
  const reply = await resolve(ctx, domain, 'MX')
  const mx = recordsOf(reply, 'MX').map((r) => r.data).sort((a, b) => (a.preference ?? 0) - (b.preference ?? 0))
  if (mx.length === 0) return { check: 'mx_v6', target: domain, colour: 'gray', reason: `${domain} has no MX record: no mail service (${reply.rcode})`, evidence: { rcode: reply.rcode } }
  if (mx.length === 1 && (mx[0]?.exchange === '' || mx[0]?.exchange === '.')) {
    return { check: 'mx_v6', target: domain, colour: 'gray', reason: `${domain} publishes a null MX (RFC 7505): accepts no mail`, evidence: {} }
  }
  const hosts: Array<{ host: string, aaaa: string[], smtp: unknown }> = []
  for (const { exchange } of mx.slice(0, 5)) {
    const { addresses: aaaa } = await addresses(ctx, exchange, 'AAAA')
    const address = aaaa[0]
    const smtp = !ctx.smtp || address === undefined
      ? null
      : await ctx.smtpProbe({ address, port: ctx.smtpPort, heloName: ctx.heloName, timeoutMs: ctx.timeoutMs })
    hosts.push({ host: exchange, aaaa, smtp })
  }
  const withV6 = hosts.filter((h) => h.aaaa.length > 0)
  if (withV6.length === 0) return { check: 'mx_v6', target: domain, colour: 'red', reason: `none of ${hosts.length} MX hosts has an AAAA record`, evidence: { hosts } }
  if (!ctx.smtp) {
    return { check: 'mx_v6', target: domain, colour: 'green', reason: `${withV6.length} of ${hosts.length} MX hosts have AAAA; SMTP not tested`, evidence: { hosts, smtp: 'not_tested' } }
  }
  const failing = withV6.filter((h) => (h.smtp as { ok: boolean }).ok !== true)
  if (failing.length > 0) {
    const detail = failing.map((h) => `${h.host}: ${(h.smtp as { error: string, detail: string }).error}`).join('; ')
    return { check: 'mx_v6', target: domain, colour: 'yellow', reason: `SMTP over IPv6 fails: ${detail}`, evidence: { hosts } }
  }
  return { check: 'mx_v6', target: domain, colour: 'green', reason: `${withV6.length} of ${hosts.length} MX hosts accept SMTP (banner + EHLO) over IPv6`, evidence: { hosts } }
}

/** The zone apex of a name: the owner of the SOA in the answer, or in the authority section. */
export async function findZone (ctx: ProbeContext, name: string): Promise<string | null> {
  const reply = await resolve(ctx, name, 'SOA')
  const soa = recordsOf(reply, 'SOA')[0] ?? reply.authorities.find((a) => a.type === 'SOA')
  return soa === undefined ? null : soa.name.replace(/\.$/, '').toLowerCase()
}
