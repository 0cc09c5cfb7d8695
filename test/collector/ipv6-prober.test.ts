import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import type { IncomingMessage, ServerResponse } from 'node:http'
import dnsPacket from 'dns-packet'
import { dnsQuery } from '../../collector/ipv6/dns-client.js'
import { httpsStatus, smtpProbe } from '../../collector/ipv6/net-probes.js'
import { checkHttpsV6, checkMxV6, checkNsV6, checkWebAaaa, findZone, isGlobalUnicast, type ProbeContext } from '../../collector/ipv6/checks.js'
import { checkDnssec } from '../../collector/ipv6/dnssec-check.js'
import { probeAgency, runProbeCycle } from '../../collector/ipv6/prober.js'
import { setAgencyServices } from '../../collector/ipv6/service-store.js'
import type { Ipv6Store } from '../../collector/storage/stores.js'
import { backends, type TestStores } from '../helpers/stores.js'
import { dsMatches, keyTag } from '../../collector/ipv6/dnssec.js'
import { dsFor, makeZoneKey, signRrset, startDnsServer, type DnsTestServer, type Rr } from '../helpers/dns-server.js'
import { selfSignedCert } from '../helpers/tls-cert.js'
import { startSmtpServer } from '../helpers/smtp-server.js'

// A whole test world on loopback: one DNS server (resolver and every authoritative server),
// an HTTPS server on [::1] and 127.0.0.1 with a certificate made here, and two SMTP greeters.
const nowS = Math.floor(Date.now() / 1000)
const window = { inception: nowS - 3600, expiration: nowS + 86_400 }

const soa = (zone: string): Rr => ({ type: 'SOA', name: zone, ttl: 3600, data: { mname: `ns1.${zone}`, rname: `hostmaster.${zone}`, serial: 1, refresh: 3600, retry: 600, expire: 86_400, minimum: 300 } })
const aaaa = (name: string, address = '::1'): Rr => ({ type: 'AAAA', name, ttl: 300, data: address })
const a = (name: string, address = '127.0.0.1'): Rr => ({ type: 'A', name, ttl: 300, data: address })
const ns = (zone: string, host: string): Rr => ({ type: 'NS', name: zone, ttl: 3600, data: host })
const mx = (domain: string, host: string): Rr => ({ type: 'MX', name: domain, ttl: 3600, data: { preference: 10, exchange: host } })
const dnskey = (k: ReturnType<typeof makeZoneKey>): Rr => ({ type: 'DNSKEY', name: k.zone, ttl: 3600, data: k.dnskey })

/** A zone with its SOA and DNSKEY signed by `key`; `ds` puts the key's DS in the "parent". */
function signedZone (zone: string, key: ReturnType<typeof makeZoneKey>, { ds = true, times = window, dsKey = key }: { ds?: boolean, times?: typeof window, dsKey?: ReturnType<typeof makeZoneKey> } = {}): Rr[] {
  const zoneSoa = soa(zone)
  const keyRr = dnskey(key)
  return [zoneSoa, keyRr, signRrset([keyRr], key, times), signRrset([zoneSoa], key, times), ...(ds ? [dsFor(dsKey)] : [])]
}

const goodKey = makeZoneKey('good.test')
const islandKey = makeZoneKey('yellow.test')
const expiredKey = makeZoneKey('expired.test')
const strayKey = makeZoneKey('mismatch.test')
const mismatchKey = makeZoneKey('mismatch.test')

const records: Rr[] = [
  ...signedZone('good.test', goodKey),
  ns('good.test', 'ns1.good.test'), aaaa('ns1.good.test'), a('ns1.good.test'),
  aaaa('www.good.test'), a('www.good.test'), aaaa('dichvucong.good.test'), a('dichvucong.good.test'),
  mx('good.test', 'mx.good.test'), aaaa('mx.good.test'), a('mx.good.test'),
  aaaa('v6only.good.test'),
  aaaa('badcert.good.test'), a('badcert.good.test'),

  soa('red.test'), ns('red.test', 'ns1.red.test'), a('ns1.red.test'), a('www.red.test'), mx('red.test', 'mx.red.test'), a('mx.red.test'),

  ...signedZone('yellow.test', islandKey, { ds: false }),
  ns('yellow.test', 'ns1.yellow.test'), aaaa('ns1.yellow.test'),
  aaaa('www.yellow.test'), a('www.yellow.test'), mx('yellow.test', 'mx.yellow.test'), aaaa('mx.yellow.test'),
  aaaa('www.ula.test', 'fd00::1'), aaaa('www.doc.test', '2001:db8::1'), aaaa('www.global.test', '2402:800::1'),

  soa('silent.test'), ns('silent.test', 'ns1.silent.test'), aaaa('ns1.silent.test'),
  soa('nomail.test'), { type: 'MX', name: 'nullmx.test', ttl: 3600, data: { preference: 0, exchange: '.' } },
  ...signedZone('expired.test', expiredKey, { times: { inception: nowS - 10 * 86_400, expiration: nowS - 86_400 } }),
  ...signedZone('mismatch.test', mismatchKey, { dsKey: strayKey })
]

let dns: DnsTestServer
let v6: https.Server
let v4: https.Server
let httpsPort: number
let smtpGood: Awaited<ReturnType<typeof startSmtpServer>>
let smtpRefusing: Awaited<ReturnType<typeof startSmtpServer>>
const cert = selfSignedCert({ names: ['www.good.test', 'dichvucong.good.test', 'v6only.good.test', 'www.yellow.test'] })

beforeAll(async () => {
  dns = await startDnsServer({ records, zones: ['good.test', 'red.test', 'yellow.test', 'silent.test', 'nomail.test', 'nullmx.test', 'expired.test', 'mismatch.test'], lame: ['yellow.test'], silent: ['silent.test'], dropNames: ['www.timeout.test'] })
  // www.yellow.test answers 503 over IPv6 and 200 over IPv4: published, but broken over IPv6.
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const overV6 = req.socket.remoteAddress === '::1'
    res.statusCode = req.headers.host === 'www.yellow.test' && overV6 ? 503 : 200
    res.end('ok')
  }
  v6 = https.createServer({ cert: cert.cert, key: cert.key }, handler)
  await new Promise<void>((resolve) => v6.listen(0, '::1', resolve))
  httpsPort = (v6.address() as AddressInfo).port
  v4 = https.createServer({ cert: cert.cert, key: cert.key }, handler)
  await new Promise<void>((resolve) => v4.listen(httpsPort, '127.0.0.1', resolve))
  smtpGood = await startSmtpServer()
  smtpRefusing = await startSmtpServer({ ehloReply: '550 5.7.1 not over IPv6' })
})

afterAll(async () => {
  await dns.close()
  await new Promise((resolve) => v6.close(resolve))
  await new Promise((resolve) => v4.close(resolve))
  await smtpGood.close()
  await smtpRefusing.close()
})

const ctx = (over: Partial<ProbeContext> = {}): ProbeContext => ({
  query: dnsQuery,
  resolver: { address: '::1', port: dns.port },
  timeoutMs: 400,
  dnsPort: dns.port,
  httpsPort,
  smtpPort: smtpGood.port,
  smtp: true,
  ca: cert.cert,
  addressPolicy: 'any',
  heloName: 'prober.test',
  https: httpsStatus,
  smtpProbe,
  nowS: () => Math.floor(Date.now() / 1000),
  ...over
})

describe('web_aaaa', () => {
  it('green with AAAA, red without, gray when no host is set', async () => {
    expect((await checkWebAaaa(ctx(), 'www.good.test', 'portal')).colour).toBe('green')
    const red = await checkWebAaaa(ctx(), 'www.red.test', 'portal')
    expect(red.colour).toBe('red')
    expect(red.reason).toMatch(/no AAAA/)
    expect((await checkWebAaaa(ctx(), 'nothere.red.test', 'portal')).reason).toMatch(/NXDOMAIN/)
    // a name the resolver cannot resolve in time has no usable address either
    expect(await checkWebAaaa(ctx(), 'www.timeout.test', 'portal')).toMatchObject({ colour: 'red', reason: 'www.timeout.test: TIMEOUT' })
    expect((await checkWebAaaa(ctx(), null, 'portal host')).colour).toBe('gray')
  })

  it('yellow when the published address is not global unicast (production policy)', async () => {
    expect((await checkWebAaaa(ctx({ addressPolicy: 'global' }), 'www.ula.test', 'portal')).colour).toBe('yellow')
    expect((await checkWebAaaa(ctx({ addressPolicy: 'global' }), 'www.doc.test', 'portal')).colour).toBe('yellow')
    expect((await checkWebAaaa(ctx({ addressPolicy: 'global' }), 'www.global.test', 'portal')).colour).toBe('green')
    expect(isGlobalUnicast('2001::1')).toBe(false) // Teredo
    expect(isGlobalUnicast('2002:c000:204::1')).toBe(false) // 6to4
    expect(isGlobalUnicast('fe80::1')).toBe(false)
    expect(isGlobalUnicast('2405:4800::1')).toBe(true)
  })
})

describe('https_v6', () => {
  it('green: same status as over IPv4 and a certificate valid for the name', async () => {
    const r = await checkHttpsV6(ctx(), 'www.good.test', 'portal')
    expect(r.colour).toBe('green')
    expect(r.evidence).toMatchObject({ ipv6: [{ address: '::1', ok: true, status: 200 }], ipv4: { address: '127.0.0.1', ok: true, status: 200 } })
  })

  it('green for an IPv6-only host answering a non-5xx status', async () => {
    expect((await checkHttpsV6(ctx(), 'v6only.good.test', 'portal')).colour).toBe('green')
  })

  it('yellow when the status over IPv6 differs from IPv4', async () => {
    const r = await checkHttpsV6(ctx(), 'www.yellow.test', 'portal')
    expect(r.colour).toBe('yellow')
    expect(r.reason).toBe('status 503 over IPv6 but 200 over IPv4')
  })

  it('yellow when the certificate does not cover the name, or is not trusted', async () => {
    const r = await checkHttpsV6(ctx(), 'badcert.good.test', 'portal')
    expect(r.colour).toBe('yellow')
    expect(r.reason).toMatch(/tls_error/)
    const untrusted = await checkHttpsV6(ctx({ ca: undefined }), 'www.good.test', 'portal')
    expect(untrusted.colour).toBe('yellow')
    expect(untrusted.reason).toMatch(/tls_error/)
  })

  it('yellow when nothing listens on the IPv6 address (no fallback to IPv4)', async () => {
    const r = await checkHttpsV6(ctx({ httpsPort: await closedPort() }), 'www.good.test', 'portal')
    expect(r.colour).toBe('yellow')
    expect(r.reason).toMatch(/refused|reset|closed|timeout/)
  })

  it('red without AAAA, gray without a host', async () => {
    expect((await checkHttpsV6(ctx(), 'www.red.test', 'portal')).colour).toBe('red')
    expect((await checkHttpsV6(ctx(), null, 'portal host')).colour).toBe('gray')
  })
})

describe('ns_v6', () => {
  it('green when every published NS IPv6 address answers authoritatively', async () => {
    const r = await checkNsV6(ctx(), 'good.test')
    expect(r.colour).toBe('green')
    // the authoritative question went to the NS host's IPv6 address with RD clear
    expect(dns.queries.some((q) => q.name === 'good.test' && q.type === 'SOA' && !q.rd)).toBe(true)
  })
  it('red when no NS host has AAAA', async () => {
    expect((await checkNsV6(ctx(), 'red.test')).colour).toBe('red')
  })
  it('yellow when an NS IPv6 address refuses (lame) or does not answer', async () => {
    const lame = await checkNsV6(ctx(), 'yellow.test')
    expect(lame.colour).toBe('yellow')
    expect(lame.reason).toMatch(/REFUSED/)
    const silent = await checkNsV6(ctx(), 'silent.test')
    expect(silent.colour).toBe('yellow')
    expect(silent.reason).toMatch(/no UDP reply/)
  })
  it('gray when the zone is unknown', async () => {
    expect((await checkNsV6(ctx(), null)).colour).toBe('gray')
  })
})

describe('mx_v6', () => {
  it('green with AAAA and an SMTP banner + EHLO over IPv6', async () => {
    const before = smtpGood.sessions.length
    expect((await checkMxV6(ctx(), 'good.test')).colour).toBe('green')
    expect(smtpGood.sessions.length).toBe(before + 1)
    expect(smtpGood.sessions.at(-1)?.[0]).toBe('EHLO prober.test')
  })
  it('yellow when the MX refuses EHLO over IPv6', async () => {
    const r = await checkMxV6(ctx({ smtpPort: smtpRefusing.port }), 'yellow.test')
    expect(r.colour).toBe('yellow')
    expect(r.reason).toMatch(/ehlo_refused/)
  })
  it('green on AAAA alone when SMTP probing is off, and says so', async () => {
    const r = await checkMxV6(ctx({ smtp: false, smtpPort: smtpRefusing.port }), 'yellow.test')
    expect(r.colour).toBe('green')
    expect(r.evidence.smtp).toBe('not_tested')
  })
  it('red when no MX host has AAAA; gray for no MX, a null MX or no mail domain', async () => {
    expect((await checkMxV6(ctx(), 'red.test')).colour).toBe('red')
    expect((await checkMxV6(ctx(), 'nomail.test')).colour).toBe('gray')
    expect((await checkMxV6(ctx(), 'nullmx.test')).reason).toMatch(/null MX/)
    expect((await checkMxV6(ctx(), null)).colour).toBe('gray')
  })
})

describe('dnssec', () => {
  it('green: DS matches the key, the DNSKEY set and the SOA are validly signed', async () => {
    const r = await checkDnssec(ctx(), 'good.test')
    expect(r.reason).toMatch(/validly signed/)
    expect(r.colour).toBe('green')
  })
  it('red when the zone is unsigned', async () => {
    expect((await checkDnssec(ctx(), 'red.test')).colour).toBe('red')
  })
  it('yellow: signed without DS, DS for another key, or signatures expired', async () => {
    expect((await checkDnssec(ctx(), 'yellow.test')).reason).toMatch(/no DS record/)
    expect((await checkDnssec(ctx(), 'mismatch.test')).reason).toMatch(/matches a DNSKEY/)
    const expired = await checkDnssec(ctx(), 'expired.test')
    expect(expired.colour).toBe('yellow')
    expect(expired.reason).toMatch(/expired/)
  })
  it('yellow when a signature does not verify (the SOA changed after signing)', async () => {
    const tampered = records.map((r) => r.type === 'SOA' && r.name === 'good.test' ? { ...r, data: { ...(r.data as dnsPacket.SoaData), serial: 2 } } : r)
    const other = await startDnsServer({ records: tampered, zones: ['good.test'] })
    try {
      const r = await checkDnssec(ctx({ resolver: { address: '::1', port: other.port } }), 'good.test')
      expect(r.colour).toBe('yellow')
      expect(r.reason).toMatch(/bad_signature/)
    } finally { await other.close() }
  })
  it('gray when the zone is unknown', async () => {
    expect((await checkDnssec(ctx(), null)).colour).toBe('gray')
  })
  it('computes the RFC 4034 §5.4 example key tag and SHA-1 DS digest', () => {
    const key = Buffer.from('AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==', 'base64')
    const k = { flags: 256, algorithm: 5, key }
    expect(keyTag(k)).toBe(60485)
    expect(dsMatches('dskey.example.com', { keyTag: 60485, algorithm: 5, digestType: 1, digest: Buffer.from('2BB183AF5F22588179A53B0A98631FAD1A292118', 'hex') }, k)).toBe(true)
  })
})

describe('a whole agency', () => {
  it('probes every check, finding the zone from the portal host', async () => {
    const results = await probeAgency(ctx(), { agencyId: 'x', portalHost: 'www.good.test', publicServiceHost: 'dichvucong.good.test', mailDomain: 'good.test', dnsZone: null, updatedAt: 0 })
    expect(results.map((r) => `${r.check}:${r.target}:${r.colour}`)).toEqual([
      'web_aaaa:www.good.test:green', 'https_v6:www.good.test:green',
      'web_aaaa:dichvucong.good.test:green', 'https_v6:dichvucong.good.test:green',
      'ns_v6:good.test:green', 'mx_v6:good.test:green', 'dnssec:good.test:green'
    ])
    expect(await findZone(ctx(), 'www.red.test')).toBe('red.test')
  })
  it('an agency with nothing configured is gray everywhere', async () => {
    const results = await probeAgency(ctx(), { agencyId: 'x', portalHost: null, publicServiceHost: null, mailDomain: null, dnsZone: null, updatedAt: 0 })
    expect(new Set(results.map((r) => r.colour))).toEqual(new Set(['gray']))
  })
})

describe.each(backends)('a probe cycle over the database on $name', (backend) => {
  let stores: TestStores | undefined
  afterEach(async () => { await stores?.close(); stores = undefined })
  async function storeWithAgency (): Promise<Ipv6Store> {
    stores = await backend.open()
    const agency = await stores.fleet.createAgency({ id: 'ag1', name: 'Sở KH&CN', category: 'organisation', connectionClass: 'fixed', isp: 'VNPT', planDownMbps: null, planUpMbps: null, communeCode: '23290', provinceCode: '51', legacyCommuneCode: null, legacyDistrictCode: null, legacyProvinceCode: null, placementNote: null }, 0)
    await setAgencyServices(stores.ipv6, { agencyId: agency.id, portalHost: 'www.good.test', publicServiceHost: null, mailDomain: 'good.test', dnsZone: 'good.test' })
    return stores.ipv6
  }

  it('stores every check of a run with its evidence and time', async () => {
    const store = await storeWithAgency()
    const outcome = await runProbeCycle(store, ctx(), { concurrency: 2, now: () => 1_700_000_000_000 })
    expect(outcome).toEqual({ probed: 1, failed: [] })
    const run = await store.latestRun('ag1')
    expect(run.map((c) => `${c.check}:${c.colour}`).sort()).toEqual(['dnssec:green', 'https_v6:green', 'mx_v6:green', 'ns_v6:green', 'web_aaaa:green'])
    expect(run[0]?.checkedAt).toBe(1_700_000_000_000)
    expect(run.find((c) => c.check === 'https_v6')?.evidence).toMatchObject({ ipv6: [{ address: '::1', status: 200 }] })
  })

  it('stores nothing when the resolver is down, and says why', async () => {
    const store = await storeWithAgency()
    const outcome = await runProbeCycle(store, ctx({ resolver: { address: '::1', port: await closedPort() }, timeoutMs: 200 }), { concurrency: 1 })
    expect(outcome.probed).toBe(0)
    expect(outcome.failed).toEqual([{ agencyId: 'ag1', error: expect.stringMatching(/does not answer/) }])
    expect(await store.latestRun('ag1')).toEqual([])
  })
})

describe('dns client', () => {
  it('falls back to TCP when the UDP reply is truncated', async () => {
    const tc = await startDnsServer({ records, zones: ['good.test'], truncateUdp: true })
    try {
      const r = await dnsQuery({ address: '::1', port: tc.port }, 'www.good.test', 'AAAA', { timeoutMs: 500 })
      expect(r.transport).toBe('tcp')
      expect(r.answers).toEqual([expect.objectContaining({ type: 'AAAA', data: '::1' })])
    } finally { await tc.close() }
  })
})

async function closedPort (): Promise<number> {
  const s = https.createServer()
  await new Promise<void>((resolve) => s.listen(0, '::1', resolve))
  const port = (s.address() as AddressInfo).port
  await new Promise((resolve) => s.close(resolve))
  return port
}
