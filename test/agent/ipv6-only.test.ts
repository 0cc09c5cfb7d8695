import { Resolver } from 'node:dns/promises'
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ipv6OnlyReadiness, nat64PrefixOf, runIpv6OnlyCheck, systemIpv6OnlyIo, type Ipv6OnlyIo } from '../../agent/measure/ipv6-only.js'
import { systemClock } from '../../agent/measure/context.js'
import { compileValidator } from '../../shared/schemas/validate.js'
import { ResultRecord } from '../../shared/schemas/result.js'
import { startWorld, type World } from '../helpers/ipv6-only-world.js'

/**
 * The IPv6-only readiness probe against a DNS server and services of our own on ::1: DNS64
 * found by RFC 7050, the prefix by RFC 6052, services reached by their AAAA only.
 */
describe('NAT64 prefix of a synthesised ipv4only.arpa address (RFC 6052 §2.2, the well-known IPv4 192.0.0.170/171)', () => {
  // 192.0.0.170 = c0 00 00 aa, placed by hand at each prefix length, skipping bits 64–71.
  const cases: Array<[string, string, number]> = [
    ['2001:db8:c000:aa::', '2001:db8::/32', 32],
    ['2001:db8:1c0:0:aa::', '2001:db8:100::/40', 40],
    ['2001:db8:122:c000:0:aa00::', '2001:db8:122::/48', 48],
    ['2001:db8:122:3c0:0:aa::', '2001:db8:122:300::/56', 56],
    ['2001:db8:122:344:c0:0:aa00:0', '2001:db8:122:344::/64', 64],
    ['2001:db8:122:344::c000:ab', '2001:db8:122:344::/96', 96],
    ['64:ff9b::c000:aa', '64:ff9b::/96', 96],
    ['64:ff9b::192.0.0.171', '64:ff9b::/96', 96]
  ]
  for (const [address, prefix, length] of cases) {
    it(`${address} → ${prefix}`, () => { expect(nat64PrefixOf(address)).toEqual({ prefix, length }) })
  }
  it('an address embedding neither well-known address, or with the u octet set, reveals nothing', () => {
    expect(nat64PrefixOf('2001:db8::1')).toBeNull()
    expect(nat64PrefixOf('64:ff9b::c000:ac')).toBeNull()
    expect(nat64PrefixOf('2001:db8:122:344:ff00:0:aa00:0')).toBeNull()
    expect(nat64PrefixOf('192.0.0.170')).toBeNull()
  })
})

describe('IPv6-only readiness on loopback', () => {
  let nat64: World
  let plain: World
  let v4: http.Server
  let v4Hits = 0
  const validate = compileValidator(ResultRecord)
  const io = (w: World): Partial<Ipv6OnlyIo> => {
    const r = new Resolver({ timeout: 2000, tries: 1 })
    r.setServers([`[::1]:${w.dns.port}`])
    return { resolve6: async (name) => await r.resolve6(name) }
  }

  beforeAll(async () => {
    nat64 = await startWorld({ nat64: true })
    plain = await startWorld({ nat64: false })
    // The same port on 127.0.0.1, so a fallback to v4only.test's A record would be seen here.
    v4 = http.createServer((_req, res) => { v4Hits++; res.end('v4') })
    await new Promise<void>((resolve) => v4.listen(plain.httpPort, '127.0.0.1', resolve))
  })
  afterAll(async () => {
    await nat64.close()
    await plain.close()
    await new Promise<void>((resolve) => v4.close(() => resolve()))
  })

  it('DNS64 and working IPv6: ready by NAT64, with the prefix the resolver revealed', async () => {
    const r = await ipv6OnlyReadiness({ server: `http://speed.test:${nat64.httpPort}`, services: [`http://portal.test:${nat64.httpPort}/`], clock: systemClock, io: io(nat64), timeoutMs: 2000 })
    expect(r.dns64).toMatchObject({ found: true, prefixes: [{ prefix: '64:ff9b::/96', length: 96 }] })
    expect(r.dns64.addresses.sort()).toEqual(['64:ff9b::c000:aa', '64:ff9b::c000:ab'])
    expect(r.ipv6Connect).toBe(true)
    expect(r.services).toEqual([expect.objectContaining({ aaaa: true, address: '::1', ok: true, httpStatus: 200 })])
    expect(r).toMatchObject({ ready: true, basis: 'nat64' })
    expect(nat64.dns.queries.some((q) => q.name === 'ipv4only.arpa' && q.type === 'AAAA')).toBe(true)
    expect(nat64.hits.get('portal.test')).toBe(1)
  })

  it('no DNS64 and a service with only an A record: not ready, and the service was never tried over IPv4', async () => {
    const r = await ipv6OnlyReadiness({ server: `http://speed.test:${plain.httpPort}`, services: [`http://portal.test:${plain.httpPort}/`, `http://v4only.test:${plain.httpPort}/`], clock: systemClock, io: io(plain), timeoutMs: 2000 })
    expect(r.dns64).toMatchObject({ found: false, prefixes: [], addresses: [] })
    expect(r.ipv6Connect).toBe(true)
    expect(r.services[0]).toMatchObject({ ok: true, httpStatus: 200 })
    expect(r.services[1]).toMatchObject({ aaaa: false, address: null, ok: false, httpStatus: null })
    expect(r).toMatchObject({ ready: false, basis: null })
    expect(r.reason).toContain('v4only.test')
    expect(v4Hits).toBe(0)
  })

  it('no DNS64 but every listed service answers over IPv6: ready by the services; a 503 over IPv6 is not an answer', async () => {
    const ok = await ipv6OnlyReadiness({ server: `http://speed.test:${plain.httpPort}`, services: [`http://portal.test:${plain.httpPort}/`, `http://dichvucong.test:${plain.httpPort}/`], clock: systemClock, io: io(plain), timeoutMs: 2000 })
    expect(ok).toMatchObject({ ready: true, basis: 'services' })
    const broken = await ipv6OnlyReadiness({ server: `http://[::1]:${plain.httpPort}`, services: [`http://[::1]:${plain.httpPort}/`, `http://portal.test:${plain.httpPort}/`], clock: systemClock, io: { ...io(plain), get6: async (url, address, t) => url.hostname === '[::1]' ? 503 : await systemIpv6OnlyIo.get6(url, address, t) }, timeoutMs: 2000 })
    expect(broken.services[0]).toMatchObject({ ok: false, httpStatus: 503 })
    expect(broken.ready).toBe(false)
  })

  it('a resolver that does not answer: DNS64 unknown, never "absent"', async () => {
    const r = new Resolver({ timeout: 300, tries: 1 })
    r.setServers(['[::1]:9']) // discard port: nothing answers
    const out = await ipv6OnlyReadiness({ server: `http://[::1]:${plain.httpPort}`, services: [], clock: systemClock, io: { resolve6: async (n) => await r.resolve6(n) }, timeoutMs: 2000 })
    expect(out.dns64.found).toBeNull()
    expect(out.ipv6Connect).toBe(true)
    expect(out.ready).toBe(false)
  })

  it('the record (kind ipv6_only) passes the shared schema', async () => {
    const record = await runIpv6OnlyCheck({ server: `http://speed.test:${nat64.httpPort}`, services: [`http://portal.test:${nat64.httpPort}/`], clock: systemClock, io: io(nat64), timeoutMs: 2000 })
    expect(record.kind).toBe('ipv6_only')
    expect(record.ipv6Only?.ready).toBe(true)
    expect(validate.errors(record, 5)).toEqual([])
  })
})
