import dgram from 'node:dgram'
import net from 'node:net'
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import dnsPacket from 'dns-packet'

/**
 * A loopback DNS server answering from a fixture zone, over UDP and TCP on one port, built
 * with the same library as the prober. It plays both the recursive resolver (RD set) and
 * every authoritative server (RD clear), so one port serves a whole test world.
 */

export type Rr = dnsPacket.Answer

export interface DnsFixture {
  /** Every record, owner names without a trailing dot. */
  records: Rr[]
  /** Zone apexes; NODATA/NXDOMAIN replies carry the enclosing zone's SOA. */
  zones: string[]
  /** Zones whose authoritative answers (RD clear) are REFUSED: a lame server. */
  lame?: string[]
  /** Zones whose authoritative queries are dropped: a black hole. */
  silent?: string[]
  /** Names whose queries are dropped whatever the RD bit: the resolver times out on them. */
  dropNames?: string[]
  /** Answer every UDP query with TC set, forcing TCP. */
  truncateUdp?: boolean
}

export interface DnsTestServer { address: string, port: number, queries: Array<{ name: string, type: string, rd: boolean, transport: string }>, close: () => Promise<void> }

const lower = (n: string): string => n.toLowerCase().replace(/\.$/, '')
const inZone = (name: string, zone: string): boolean => name === zone || name.endsWith(`.${zone}`)

function answer (fixture: DnsFixture, query: dnsPacket.DecodedPacket, transport: 'udp' | 'tcp'): dnsPacket.Packet | null {
  const q = query.questions?.[0]
  const base = { type: 'response' as const, id: query.id, questions: query.questions }
  if (q === undefined) return { ...base, flags: 1 } // FORMERR
  const name = lower(q.name)
  const rd = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED
  if (fixture.dropNames?.includes(name) === true) return null
  const zone = fixture.zones.filter((z) => inZone(name, z)).sort((a, b) => b.length - a.length)[0]
  if (rd === 0 && zone !== undefined) {
    if (fixture.silent?.includes(zone) === true) return null
    if (fixture.lame?.includes(zone) === true) return { ...base, flags: 5 } // REFUSED
  }
  const opt = query.additionals?.find((a) => a.type === 'OPT') as dnsPacket.OptAnswer | undefined
  const dnssec = opt !== undefined && (opt.flags & dnsPacket.DNSSEC_OK) !== 0
  const owned = fixture.records.filter((r) => lower(r.name) === name)
  const matching = owned.filter((r) => r.type === q.type)
  const sigs = dnssec ? owned.filter((r) => r.type === 'RRSIG' && (r.data as dnsPacket.RrsigData).typeCovered === q.type) : []
  const exists = owned.length > 0 || fixture.records.some((r) => lower(r.name).endsWith(`.${name}`)) || fixture.zones.includes(name)
  const flags = dnsPacket.AUTHORITATIVE_ANSWER | (rd !== 0 ? dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE : 0) | (exists ? 0 : 3) // NXDOMAIN
  const authorities = matching.length === 0 && zone !== undefined ? fixture.records.filter((r) => lower(r.name) === zone && r.type === 'SOA') : []
  const reply: dnsPacket.Packet = { ...base, flags, answers: [...matching, ...sigs], authorities }
  if (transport === 'udp' && fixture.truncateUdp === true) return { ...base, flags: flags | dnsPacket.TRUNCATED_RESPONSE, answers: [] }
  return reply
}

export async function startDnsServer (fixture: DnsFixture, address = '::1', port0 = 0): Promise<DnsTestServer> {
  const queries: DnsTestServer['queries'] = []
  const record = (p: dnsPacket.DecodedPacket, transport: string): void => {
    const q = p.questions?.[0]
    if (q !== undefined) queries.push({ name: lower(q.name), type: q.type, rd: ((p.flags ?? 0) & dnsPacket.RECURSION_DESIRED) !== 0, transport })
  }
  const tcp = net.createServer((socket) => {
    let buf = Buffer.alloc(0)
    socket.on('error', () => {})
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk])
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0))
        buf = buf.subarray(2 + msg.length)
        const query = dnsPacket.decode(msg)
        record(query, 'tcp')
        const reply = answer(fixture, query, 'tcp')
        if (reply !== null) socket.write(dnsPacket.streamEncode(reply))
      }
    })
  })
  await new Promise<void>((resolve) => tcp.listen(port0, address, resolve))
  const port = (tcp.address() as net.AddressInfo).port
  const udp = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4')
  udp.on('message', (msg, rinfo) => {
    const query = dnsPacket.decode(msg)
    record(query, 'udp')
    const reply = answer(fixture, query, 'udp')
    if (reply !== null) udp.send(dnsPacket.encode(reply), rinfo.port, rinfo.address)
  })
  await new Promise<void>((resolve) => udp.bind(port, address, resolve))
  return {
    address,
    port,
    queries,
    close: async () => {
      await new Promise<void>((resolve) => udp.close(() => resolve()))
      await new Promise<void>((resolve) => tcp.close(() => resolve()))
    }
  }
}

// ------------------------------------------------------------------ signing (test side)

/**
 * A zone signing key (ECDSA P-256, algorithm 13) and the RRSIG/DS records it makes. The
 * canonical form is assembled here from RFC 4034 §3.1.8.1/§6 on its own, not with the
 * prober's code, so a mistake on either side shows up as a failed validation.
 */
export interface ZoneKey { zone: string, dnskey: dnsPacket.DnskeyData, privateKey: KeyObject }

export function makeZoneKey (zone: string, flags = 257): ZoneKey {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwk = publicKey.export({ format: 'jwk' })
  const key = Buffer.concat([Buffer.from(jwk.x as string, 'base64url'), Buffer.from(jwk.y as string, 'base64url')])
  return { zone, dnskey: { flags, algorithm: 13, key }, privateKey }
}

function wireName (name: string): Buffer {
  const labels = lower(name).split('.').filter((l) => l !== '')
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])])
}

function rdataOf (rr: Rr): Buffer {
  if (rr.type === 'DNSKEY') {
    const d = rr.data
    return Buffer.concat([Buffer.from([d.flags >> 8, d.flags & 0xff, 3, d.algorithm]), d.key])
  }
  if (rr.type === 'SOA') {
    const d = rr.data
    const nums = Buffer.alloc(20)
    ;[d.serial, d.refresh, d.retry, d.expire, d.minimum].forEach((v, i) => nums.writeUInt32BE(v ?? 0, i * 4))
    return Buffer.concat([wireName(d.mname), wireName(d.rname), nums])
  }
  throw new Error(`test signer does not encode ${rr.type}`)
}

export function keyTagOf (k: dnsPacket.DnskeyData): number {
  const rdata = Buffer.concat([Buffer.from([k.flags >> 8, k.flags & 0xff, 3, k.algorithm]), k.key])
  let ac = 0
  for (let i = 0; i < rdata.length; i++) ac += (i & 1) !== 0 ? rdata[i] as number : (rdata[i] as number) << 8
  return (ac + ((ac >> 16) & 0xffff)) & 0xffff
}

const TYPE_CODES: Record<string, number> = { SOA: 6, DNSKEY: 48 }

/** An RRSIG over `rrset` (all one owner and type) by `key`, valid [inception, expiration] (epoch s). */
export function signRrset (rrset: Rr[], key: ZoneKey, { inception, expiration, ttl = 3600 }: { inception: number, expiration: number, ttl?: number }): Rr {
  const first = rrset[0]
  if (first === undefined) throw new Error('empty RRset')
  const owner = lower(first.name)
  const typeCode = TYPE_CODES[first.type]
  if (typeCode === undefined) throw new Error(`test signer does not know ${first.type}`)
  const head = Buffer.alloc(18)
  head.writeUInt16BE(typeCode, 0)
  head.writeUInt8(13, 2)
  head.writeUInt8(owner.split('.').length, 3)
  head.writeUInt32BE(ttl, 4)
  head.writeUInt32BE(expiration, 8)
  head.writeUInt32BE(inception, 12)
  head.writeUInt16BE(keyTagOf(key.dnskey), 16)
  const rrs = rrset.map(rdataOf).sort(Buffer.compare).map((rdata) => {
    const fixed = Buffer.alloc(10)
    fixed.writeUInt16BE(typeCode, 0)
    fixed.writeUInt16BE(1, 2)
    fixed.writeUInt32BE(ttl, 4)
    fixed.writeUInt16BE(rdata.length, 8)
    return Buffer.concat([wireName(owner), fixed, rdata])
  })
  const data = Buffer.concat([head, wireName(key.zone), ...rrs])
  const signature = sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
  return {
    type: 'RRSIG',
    name: owner,
    ttl,
    data: { typeCovered: first.type, algorithm: 13, labels: owner.split('.').length, originalTTL: ttl, expiration, inception, keyTag: keyTagOf(key.dnskey), signersName: key.zone, signature }
  } as Rr
}

export function dsFor (key: ZoneKey): Rr {
  const rdata = Buffer.concat([Buffer.from([key.dnskey.flags >> 8, key.dnskey.flags & 0xff, 3, key.dnskey.algorithm]), key.dnskey.key])
  const digest = createHash('sha256').update(Buffer.concat([wireName(key.zone), rdata])).digest()
  return { type: 'DS', name: key.zone, ttl: 3600, data: { keyTag: keyTagOf(key.dnskey), algorithm: 13, digestType: 2, digest } } as Rr
}
