import { generateKeyPairSync, sign } from 'node:crypto'
import net from 'node:net'

/**
 * A self-signed ECDSA P-256 certificate built in the test with node:crypto and a few lines
 * of DER, so HTTPS tests need no openssl binary and no file on disk. The certificate is its
 * own CA (basicConstraints CA:TRUE): pass `cert` as the client's `ca` to trust it.
 */

function len (n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}
function der (tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content)
  return Buffer.concat([Buffer.from([tag]), len(body.length), body])
}
function oid (dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number)
  const out = [40 * a + b]
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f]
    for (let v = arc >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80)
    out.push(...chunk)
  }
  return der(0x06, Buffer.from(out))
}
const seq = (...c: Buffer[]): Buffer => der(0x30, ...c)
const utcTime = (d: Date): Buffer => der(0x17, Buffer.from(d.toISOString().replace(/^\d\d(\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d).*$/, '$1$2$3$4$5$6Z')))
const name = (cn: string): Buffer => seq(der(0x31, seq(oid('2.5.4.3'), der(0x0c, Buffer.from(cn, 'utf8')))))

export interface TestCert { cert: string, key: string }

export function selfSignedCert ({ names, notBefore = new Date(Date.now() - 86_400_000), notAfter = new Date(Date.now() + 86_400_000) }: {
  /** DNS names and IP addresses for the subjectAltName. */
  names: string[]
  notBefore?: Date
  notAfter?: Date
}): TestCert {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const sigAlg = seq(oid('1.2.840.10045.4.3.2')) // ecdsa-with-SHA256
  const altNames = names.map((n) => net.isIP(n) !== 0
    ? der(0x87, net.isIPv6(n) ? ipv6Bytes(n) : Buffer.from(n.split('.').map(Number)))
    : der(0x82, Buffer.from(n, 'ascii')))
  const extensions = der(0xa3, seq(
    seq(oid('2.5.29.19'), der(0x01, Buffer.from([0xff])), der(0x04, seq(der(0x01, Buffer.from([0xff]))))),
    seq(oid('2.5.29.17'), der(0x04, seq(...altNames)))
  ))
  const subject = name(names[0] ?? 'tocdo-test')
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, Buffer.concat([Buffer.from([0x01]), Buffer.from(Array.from({ length: 7 }, () => Math.floor(Math.random() * 256)))])),
    sigAlg,
    subject,
    seq(utcTime(notBefore), utcTime(notAfter)),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    extensions
  )
  const signature = sign('sha256', tbs, privateKey)
  const certDer = seq(tbs, sigAlg, der(0x03, Buffer.from([0]), signature))
  const pem = (label: string, body: Buffer): string => `-----BEGIN ${label}-----\n${body.toString('base64').match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END ${label}-----\n`
  return { cert: pem('CERTIFICATE', certDer), key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }
}

function ipv6Bytes (address: string): Buffer {
  const [head = '', tail = ''] = address.split('::')
  const h = head === '' ? [] : head.split(':')
  const t = tail === '' ? [] : tail.split(':')
  const groups = address.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h
  const out = Buffer.alloc(16)
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2))
  return out
}
