import { recordsOf } from './dns-client.js'
import { resolve, type CheckResult, type ProbeContext } from './checks.js'
import { dsMatches, keyTag, verifyRrsig } from './dnssec.js'

/**
 * DNSSEC of the agency's zone (domain.md §6.2, Thông tư 32/2017 pairs it with IPv6):
 * red = unsigned (no DNSKEY); yellow = signed but the chain from the parent is broken (no DS,
 * no DS matching a key, DNSKEY set or SOA not validly signed); green = DS in the parent
 * matches a key that signs the DNSKEY set, and the SOA is signed, all in date.
 *
 * The parent's DS set is taken from the resolver (with CD so a bogus zone still answers);
 * the chain above the parent is not walked to the root.
 */
export async function checkDnssec (ctx: ProbeContext, zone: string | null): Promise<CheckResult> {
  if (zone === null) return { check: 'dnssec', target: '', colour: 'gray', reason: 'DNS zone unknown: set dnsZone or a portal host', evidence: {} }
  const keyReply = await resolve(ctx, zone, 'DNSKEY', true)
  const keyRecords = recordsOf(keyReply, 'DNSKEY')
  const keys = keyRecords.map((r) => r.data)
  if (keys.length === 0) return { check: 'dnssec', target: zone, colour: 'red', reason: `${zone} is not signed (no DNSKEY)`, evidence: { rcode: keyReply.rcode } }

  const dsReply = await resolve(ctx, zone, 'DS', true)
  const ds = recordsOf(dsReply, 'DS').map((r) => r.data)
  const soaReply = await resolve(ctx, zone, 'SOA', true)
  const nowS = ctx.nowS()
  const evidence: Record<string, unknown> = {
    keys: keys.map((k) => ({ tag: keyTag(k), algorithm: k.algorithm, flags: k.flags })),
    ds: ds.map((d) => ({ keyTag: d.keyTag, algorithm: d.algorithm, digestType: d.digestType })),
    resolverAd: keyReply.ad
  }
  const yellow = (reason: string): CheckResult => ({ check: 'dnssec', target: zone, colour: 'yellow', reason, evidence })
  if (ds.length === 0) return yellow(`${zone} is signed but the parent has no DS record (island of security)`)

  const anchored = keys.filter((k) => ds.some((d) => dsMatches(zone, d, k)))
  evidence.dsMatchedKeys = anchored.map(keyTag)
  if (anchored.length === 0) return yellow('no DS record in the parent matches a DNSKEY of the zone')

  const keySigs = recordsOf(keyReply, 'RRSIG').filter((s) => s.data.typeCovered === 'DNSKEY')
  const keyVerdicts = keySigs.map((s) => verifyRrsig(s.data, keyRecords, zone, anchored, nowS))
  evidence.dnskeySignatures = keyVerdicts
  if (!keyVerdicts.includes('valid')) {
    return yellow(keySigs.length === 0 ? 'the DNSKEY set has no RRSIG' : `no valid signature by a DS-anchored key over the DNSKEY set (${keyVerdicts.join(', ')})`)
  }

  const soa = recordsOf(soaReply, 'SOA')
  const soaSigs = recordsOf(soaReply, 'RRSIG').filter((s) => s.data.typeCovered === 'SOA')
  const soaVerdicts = soaSigs.map((s) => verifyRrsig(s.data, soa, zone, keys, nowS))
  evidence.soaSignatures = soaVerdicts
  if (soa.length === 0 || !soaVerdicts.includes('valid')) {
    return yellow(soaSigs.length === 0 ? 'the SOA has no RRSIG' : `no valid signature over the SOA (${soaVerdicts.join(', ')})`)
  }
  return { check: 'dnssec', target: zone, colour: 'green', reason: 'signed; DS in the parent matches a key; DNSKEY set and SOA validly signed', evidence }
}
