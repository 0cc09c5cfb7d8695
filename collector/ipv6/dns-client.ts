import dgram from 'node:dgram'
import net from 'node:net'
import { randomInt } from 'node:crypto'
import dnsPacket from 'dns-packet'

/**
 * A small DNS client over UDP with TCP fallback, built on dns-packet. Node's `dns` module
 * cannot set the DO bit or return RRSIG/DNSKEY/DS records, which the DNSSEC check needs,
 * and it cannot aim one query at one authoritative server's IPv6 address.
 */

export interface DnsServer { address: string, port: number }

export interface QueryOptions {
  timeoutMs: number
  /** Set the EDNS DO bit so signed zones return RRSIGs. */
  dnssec?: boolean
  /** Ask a validating resolver not to validate, so a broken zone can still be inspected. */
  checkingDisabled?: boolean
  /** RD bit: true for a recursive resolver, false for a question to an authoritative server. */
  recursion?: boolean
}

export interface DnsReply {
  rcode: string
  aa: boolean
  ad: boolean
  transport: 'udp' | 'tcp'
  answers: dnsPacket.Answer[]
  authorities: dnsPacket.Answer[]
}

export type DnsQueryFn = (server: DnsServer, name: string, type: dnsPacket.RecordType, opts: QueryOptions) => Promise<DnsReply>

/** Why a query got no reply: the words the evidence and the colours use. */
export class DnsQueryError extends Error {
  readonly code: 'timeout' | 'network' | 'malformed'
  constructor (code: 'timeout' | 'network' | 'malformed', message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'DnsQueryError'
    this.code = code
  }
}

/** "[::1]:5353", "127.0.0.1:53", "::1" or "9.9.9.9" → address and port (53 by default). */
export function parseServer (text: string, defaultPort = 53): DnsServer {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text)
  if (bracket !== null) return { address: bracket[1] as string, port: bracket[2] === undefined ? defaultPort : Number(bracket[2]) }
  if (net.isIPv6(text)) return { address: text, port: defaultPort }
  const hostPort = /^([^:]+):(\d+)$/.exec(text)
  if (hostPort !== null) return { address: hostPort[1] as string, port: Number(hostPort[2]) }
  return { address: text, port: defaultPort }
}

function encodeQuery (id: number, name: string, type: dnsPacket.RecordType, opts: QueryOptions): dnsPacket.Packet {
  let flags = 0
  if (opts.recursion ?? true) flags |= dnsPacket.RECURSION_DESIRED
  if (opts.checkingDisabled === true) flags |= dnsPacket.CHECKING_DISABLED
  return {
    type: 'query',
    id,
    flags,
    questions: [{ type, name, class: 'IN' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: opts.dnssec === true ? dnsPacket.DNSSEC_OK : 0 } as unknown as dnsPacket.Answer]
  }
}

function toReply (packet: dnsPacket.DecodedPacket & { rcode?: string }, transport: 'udp' | 'tcp'): DnsReply {
  return {
    rcode: packet.rcode ?? 'NOERROR',
    aa: packet.flag_aa,
    ad: packet.flag_ad,
    transport,
    answers: packet.answers ?? [],
    authorities: packet.authorities ?? []
  }
}

function networkError (err: unknown, server: DnsServer): DnsQueryError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error'
  return new DnsQueryError('network', `${code} talking to ${server.address} port ${server.port}`, { cause: err })
}

function queryUdp (server: DnsServer, query: dnsPacket.Packet, timeoutMs: number): Promise<dnsPacket.DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(server.address) ? 'udp6' : 'udp4')
    const done = (fn: () => void): void => { clearTimeout(timer); socket.close(); fn() }
    const timer = setTimeout(() => done(() => reject(new DnsQueryError('timeout', `no UDP reply from ${server.address} port ${server.port} in ${timeoutMs} ms`))), timeoutMs)
    socket.on('error', (err) => done(() => reject(networkError(err, server))))
    socket.on('message', (msg) => {
      let packet: dnsPacket.DecodedPacket
      try { packet = dnsPacket.decode(msg) } catch { return } // not ours or garbled: keep waiting until the timeout
      if (packet.id !== query.id) return
      done(() => resolve(packet))
    })
    socket.send(dnsPacket.encode(query), server.port, server.address, (err) => {
      if (err !== null && err !== undefined) done(() => reject(networkError(err, server)))
    })
  })
}

function queryTcp (server: DnsServer, query: dnsPacket.Packet, timeoutMs: number): Promise<dnsPacket.DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.address, port: server.port, family: net.isIPv6(server.address) ? 6 : 4 })
    let buffered = Buffer.alloc(0)
    const done = (fn: () => void): void => { clearTimeout(timer); socket.destroy(); fn() }
    const timer = setTimeout(() => done(() => reject(new DnsQueryError('timeout', `no TCP reply from ${server.address} port ${server.port} in ${timeoutMs} ms`))), timeoutMs)
    socket.on('connect', () => socket.write(dnsPacket.streamEncode(query)))
    socket.on('error', (err) => done(() => reject(networkError(err, server))))
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk])
      if (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0)) return
      try {
        const packet = dnsPacket.streamDecode(buffered) as dnsPacket.DecodedPacket
        done(() => resolve(packet))
      } catch (cause) {
        done(() => reject(new DnsQueryError('malformed', `malformed TCP reply from ${server.address}`, { cause })))
      }
    })
    socket.on('end', () => done(() => reject(new DnsQueryError('network', `${server.address} closed the TCP connection without a reply`))))
  })
}

/** One question to one server: UDP first, TCP when the reply is truncated (RFC 7766). */
export const dnsQuery: DnsQueryFn = async (server, name, type, opts) => {
  const query = encodeQuery(randomInt(0, 65536), name, type, opts)
  const udp = await queryUdp(server, query, opts.timeoutMs)
  if (!udp.flag_tc) return toReply(udp, 'udp')
  return toReply(await queryTcp(server, query, opts.timeoutMs), 'tcp')
}

/** Records of `type` in a reply (the resolver may put a CNAME chain before them). */
export function recordsOf (reply: DnsReply, type: dnsPacket.StringRecordType): dnsPacket.StringAnswer[]
export function recordsOf (reply: DnsReply, type: 'MX'): dnsPacket.MxAnswer[]
export function recordsOf (reply: DnsReply, type: 'SOA'): dnsPacket.SoaAnswer[]
export function recordsOf (reply: DnsReply, type: 'DNSKEY'): dnsPacket.DnskeyAnswer[]
export function recordsOf (reply: DnsReply, type: 'DS'): dnsPacket.DSAnswer[]
export function recordsOf (reply: DnsReply, type: 'RRSIG'): dnsPacket.RrsigAnswer[]
export function recordsOf (reply: DnsReply, type: string): dnsPacket.Answer[] {
  return reply.answers.filter((a) => a.type === type)
}
