import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto'
import dnsPacket from 'dns-packet'

/**
 * DNSSEC arithmetic (RFC 4034/4035): canonical RRset form, key tags, DS digests and RRSIG
 * verification for the algorithms in use today. Pure functions, no I/O.
 */

type Answer = dnsPacket.Answer
type RrsigData = dnsPacket.RrsigData
type DnskeyData = dnsPacket.DnskeyData
type DsData = dnsPacket.DsData

// dns-packet's per-type rdata codecs (exported at run time, not in its typings).
interface RdataCodec { encode: (data: unknown, buf?: Buffer, offset?: number) => Buffer }
const codecs = dnsPacket as unknown as { name: RdataCodec, record: (type: string) => RdataCodec, rrsig: RdataCodec }

/** RFC 4034 §6.2: names inside the rdata of these types are lowercased in canonical form. */
const NAME_FIELDS: Record<string, string[]> = {
  NS: [''], CNAME: [''], PTR: [''], DNAME: [''], MX: ['exchange'], SOA: ['mname', 'rname'], SRV: ['target'], RRSIG: ['signersName']
}

export function canonicalName (name: string): Buffer {
  return codecs.name.encode(name.toLowerCase().replace(/\.$/, ''))
}

/** rdlength (2 bytes) followed by the rdata in canonical form. */
export function canonicalRdata (rr: Answer): Buffer {
  const fields = NAME_FIELDS[rr.type]
  let data: unknown = (rr as { data: unknown }).data
  if (fields !== undefined) {
    data = typeof data === 'string'
      ? data.toLowerCase()
      : { ...(data as Record<string, unknown>), ...Object.fromEntries(fields.map((f) => [f, String((data as Record<string, unknown>)[f]).toLowerCase()])) }
  }
  return codecs.record(rr.type).encode(data)
}

/** RFC 4034 Appendix B. */
export function keyTag (key: DnskeyData): number {
  const rdata = canonicalRdata({ type: 'DNSKEY', name: '.', data: key } as Answer).subarray(2)
  let acc = 0
  for (let i = 0; i < rdata.length; i++) acc += (i & 1) === 1 ? rdata[i] as number : (rdata[i] as number) << 8
  acc += (acc >> 16) & 0xffff
  return acc & 0xffff
}

const DIGESTS: Record<number, string> = { 1: 'sha1', 2: 'sha256', 4: 'sha384' }

/** The DS digest of a key (RFC 4034 §5.1.4); null for a digest type we do not know. */
export function dsDigest (owner: string, key: DnskeyData, digestType: number): Buffer | null {
  const algo = DIGESTS[digestType]
  if (algo === undefined) return null
  const rdata = canonicalRdata({ type: 'DNSKEY', name: owner, data: key } as Answer).subarray(2)
  return createHash(algo).update(Buffer.concat([canonicalName(owner), rdata])).digest()
}

export function dsMatches (owner: string, ds: DsData, key: DnskeyData): boolean {
  if (ds.algorithm !== key.algorithm || ds.keyTag !== keyTag(key)) return false
  const digest = dsDigest(owner, key, ds.digestType)
  return digest !== null && digest.equals(ds.digest)
}

/** The bytes an RRSIG signs: its rdata without the signature, then the RRset in canonical order. */
export function signedData (sig: RrsigData, rrset: readonly Answer[], owner: string): Buffer {
  const head = codecs.rrsig.encode({ ...sig, signersName: sig.signersName.toLowerCase(), signature: Buffer.alloc(0) }).subarray(2)
  const nameWire = canonicalName(owner)
  const rdatas = rrset.map(canonicalRdata).sort(Buffer.compare)
  const parts: Buffer[] = [head]
  let previous: Buffer | null = null
  for (const rdata of rdatas) {
    if (previous !== null && previous.equals(rdata)) continue // duplicates are removed (RFC 4034 §6.3)
    previous = rdata
    const fixed = Buffer.alloc(8)
    fixed.writeUInt16BE(typeCode(rrset[0]?.type ?? 'A'), 0)
    fixed.writeUInt16BE(1, 2) // class IN
    fixed.writeUInt32BE(sig.originalTTL, 4)
    parts.push(nameWire, fixed, rdata)
  }
  return Buffer.concat(parts)
}

function typeCode (type: string): number {
  // dns-packet encodes a question's type; read it back rather than keep our own table.
  const buf = dnsPacket.encode({ type: 'query', id: 0, questions: [{ type: type as dnsPacket.RecordType, name: '.' }] })
  return buf.readUInt16BE(12 + 1)
}

function b64url (buf: Buffer): string { return buf.toString('base64url') }

/** A DNSKEY's public key as a KeyObject; null for an algorithm we do not verify. */
export function publicKey (key: DnskeyData): { key: KeyObject, hash: string | null, dsaEncoding?: 'ieee-p1363' } | null {
  const k = key.key
  switch (key.algorithm) {
    case 13: case 14: {
      const half = key.algorithm === 13 ? 32 : 48
      if (k.length !== half * 2) return null
      return {
        key: createPublicKey({ key: { kty: 'EC', crv: key.algorithm === 13 ? 'P-256' : 'P-384', x: b64url(k.subarray(0, half)), y: b64url(k.subarray(half)) }, format: 'jwk' }),
        hash: key.algorithm === 13 ? 'sha256' : 'sha384',
        dsaEncoding: 'ieee-p1363'
      }
    }
    case 5: case 7: case 8: case 10: {
      // RFC 3110: exponent length in one byte, or 0 and then two bytes.
      const long = k[0] === 0
      const expLen = long ? k.readUInt16BE(1) : k[0] as number
      const start = long ? 3 : 1
      return {
        key: createPublicKey({ key: { kty: 'RSA', e: b64url(k.subarray(start, start + expLen)), n: b64url(k.subarray(start + expLen)) }, format: 'jwk' }),
        // 5 and 7 are RSA/SHA-1 (deprecated by RFC 8624 but still met in the wild)
        hash: key.algorithm === 8 ? 'sha256' : key.algorithm === 10 ? 'sha512' : 'sha1'
      }
    }
    case 15:
      return { key: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(k) }, format: 'jwk' }), hash: null }
    default:
      return null
  }
}

export type SigVerdict = 'valid' | 'bad_signature' | 'expired' | 'not_yet_valid' | 'unsupported_algorithm' | 'no_matching_key'

/**
 * Checks one RRSIG over an RRset with the keys on offer: a key must match the signature's
 * tag and algorithm, the time must be inside [inception, expiration], and the signature verify.
 */
export function verifyRrsig (sig: RrsigData, rrset: readonly Answer[], owner: string, keys: readonly DnskeyData[], nowS: number): SigVerdict {
  const candidates = keys.filter((k) => k.algorithm === sig.algorithm && keyTag(k) === sig.keyTag)
  if (candidates.length === 0) return 'no_matching_key'
  if (nowS > sig.expiration) return 'expired'
  if (nowS < sig.inception) return 'not_yet_valid'
  const data = signedData(sig, rrset, owner)
  let supported = false
  for (const k of candidates) {
    const pk = publicKey(k)
    if (pk === null) continue
    supported = true
    const ok = verify(pk.hash, data, pk.dsaEncoding === undefined ? pk.key : { key: pk.key, dsaEncoding: pk.dsaEncoding }, sig.signature)
    if (ok) return 'valid'
  }
  return supported ? 'bad_signature' : 'unsupported_algorithm'
}
