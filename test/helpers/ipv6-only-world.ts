/**
 * A small IPv6-only world on ::1, for the IPv6-only readiness probe: a DNS server (the
 * fixture server of dns-server.ts) and HTTP services. `nat64` makes the DNS server a DNS64:
 * ipv4only.arpa gets synthesised AAAA records under 64:ff9b::/96 (RFC 7050 §2, RFC 6052 §2.1).
 * Run as a script (`ipv6-only-world.ts nat64|plain <dnsPort> <httpPort>`) inside a network
 * namespace, it prints `ready` and serves until killed.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { startDnsServer, type DnsTestServer, type Rr } from './dns-server.js'

export interface WorldOptions {
  nat64: boolean
  dnsPort?: number
  httpPort?: number
}

export interface World {
  dns: DnsTestServer
  httpPort: number
  /** Requests each service host received (by Host header). */
  hits: Map<string, number>
  close: () => Promise<void>
}

const soa = (zone: string): Rr => ({ type: 'SOA', name: zone, ttl: 60, data: { mname: `ns.${zone}`, rname: `hostmaster.${zone}`, serial: 1, refresh: 60, retry: 60, expire: 60, minimum: 60 } }) as Rr

/** Names: portal.test and dichvucong.test have AAAA ::1; v4only.test has only an A record. */
export function worldRecords (nat64: boolean): Rr[] {
  const records: Rr[] = [
    soa('arpa'), soa('test'),
    { type: 'A', name: 'ipv4only.arpa', ttl: 60, data: '192.0.0.170' },
    { type: 'A', name: 'ipv4only.arpa', ttl: 60, data: '192.0.0.171' },
    { type: 'AAAA', name: 'portal.test', ttl: 60, data: '::1' },
    { type: 'AAAA', name: 'dichvucong.test', ttl: 60, data: '::1' },
    { type: 'AAAA', name: 'speed.test', ttl: 60, data: '::1' },
    { type: 'A', name: 'v4only.test', ttl: 60, data: '127.0.0.1' }
  ]
  if (nat64) {
    records.push({ type: 'AAAA', name: 'ipv4only.arpa', ttl: 60, data: '64:ff9b::c000:aa' }, { type: 'AAAA', name: 'ipv4only.arpa', ttl: 60, data: '64:ff9b::c000:ab' })
    // A DNS64 synthesises for IPv4-only names too.
    records.push({ type: 'AAAA', name: 'v4only.test', ttl: 60, data: '64:ff9b::7f00:1' })
  }
  return records
}

export async function startWorld ({ nat64, dnsPort = 0, httpPort = 0 }: WorldOptions): Promise<World> {
  const dns = await startDnsServer({ records: worldRecords(nat64), zones: ['arpa', 'test'] }, '::1', dnsPort)
  const hits = new Map<string, number>()
  const server = http.createServer((req, res) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '')
    hits.set(host, (hits.get(host) ?? 0) + 1)
    res.writeHead(host === 'broken.test' ? 503 : 200, { 'content-type': 'text/plain' }).end('ok')
  })
  await new Promise<void>((resolve) => server.listen(httpPort, '::1', resolve))
  return {
    dns,
    httpPort: (server.address() as AddressInfo).port,
    hits,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await dns.close()
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  const [mode, dnsPort, httpPort] = process.argv.slice(2)
  const world = await startWorld({ nat64: mode === 'nat64', dnsPort: Number(dnsPort), httpPort: Number(httpPort) })
  process.stdout.write(`ready dns=${world.dns.port} http=${world.httpPort}\n`)
  process.on('SIGTERM', () => { void world.close().then(() => process.exit(0)) })
}
