import os from 'node:os'
import { readFile, access } from 'node:fs/promises'
import { isIP } from 'node:net'
import { createSocket } from 'node:dgram'
import { lookup } from 'node:dns/promises'
import { execRunner, type CommandRunner } from './command.js'
import { windowsLinkInfo, type WlanInterface } from './windows.js'

/**
 * The local end of the line under test: which interface the test traffic used, what kind
 * it is and its negotiated link speed (methodology.md §4 phase 0, §11 local_link_limited).
 * Linux reads /sys/class/net; Windows asks Get-NetAdapter and netsh (platform/windows.ts);
 * elsewhere the figures are null, never guessed, and `source` says why.
 */
export type IfaceKind = 'ethernet' | 'wifi' | 'cellular' | 'loopback' | 'unknown'

export interface LinkInfo { name: string | null, kind: IfaceKind, linkMbps: number | null, source: string, wifi?: WlanInterface }

const unmapped = (a: string): string => a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a.replace(/%.*$/, '')

/** The interface holding `localAddress` (the local end of a test connection). */
export function interfaceForAddress (localAddress: string | null, ifaces = os.networkInterfaces()): string | null {
  if (localAddress === null) return null
  const want = unmapped(localAddress)
  for (const [name, addrs] of Object.entries(ifaces)) {
    if (addrs?.some((a) => unmapped(a.address) === want) === true) return name
  }
  return null
}

/**
 * The interface the system would send to `url` from, before any test traffic: a UDP socket
 * "connected" to the server's address picks the route and its local address without sending
 * a packet. Null when the name does not resolve or no route exists (the caller then counts
 * every interface).
 */
export async function interfaceToward (url: string, ifaces?: ReturnType<typeof os.networkInterfaces>): Promise<string | null> {
  try {
    const { hostname, port, protocol } = new URL(url)
    const host = hostname.replace(/^\[|\]$/g, '')
    const { address, family } = isIP(host) === 0 ? await lookup(host) : { address: host, family: isIP(host) }
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4')
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject)
        socket.connect(Number(port === '' ? (protocol === 'https:' ? 443 : 80) : port), address, () => { resolve() })
      })
      return interfaceForAddress(socket.address().address, ifaces)
    } finally {
      socket.close()
    }
  } catch {
    return null
  }
}

async function readSys (file: string): Promise<string | null> {
  try { return (await readFile(file, 'utf8')).trim() } catch { return null }
}

export async function linkInfo (name: string | null, { platform = process.platform, sysRoot = '/sys/class/net', run = execRunner }: { platform?: NodeJS.Platform, sysRoot?: string, run?: CommandRunner } = {}): Promise<LinkInfo> {
  if (name === null) return { name, kind: 'unknown', linkMbps: null, source: 'interface not identified' }
  const loopback = os.networkInterfaces()[name]?.some((a) => a.internal) === true
  if (platform === 'win32') return loopback ? { name, kind: 'loopback', linkMbps: null, source: 'loopback address' } : { name, ...await windowsLinkInfo(name, run) }
  if (platform !== 'linux') return { name, kind: loopback ? 'loopback' : 'unknown', linkMbps: null, source: `no link speed source on ${platform}` }
  const type = await readSys(`${sysRoot}/${name}/type`)
  const wireless = await access(`${sysRoot}/${name}/wireless`).then(() => true, () => false)
  // ARPHRD_LOOPBACK 772; ARPHRD_NONE 65534 and RAWIP 519 are how wwan/cellular modems appear.
  const kind: IfaceKind = loopback || type === '772'
    ? 'loopback'
    : wireless ? 'wifi' : /^(wwan|rmnet|ccmni)/.test(name) || type === '519' ? 'cellular' : type === '1' ? 'ethernet' : 'unknown'
  const speed = Number(await readSys(`${sysRoot}/${name}/speed`))
  // Virtual devices report -1 or refuse the read (EINVAL): unknown, not zero.
  const linkMbps = Number.isFinite(speed) && speed > 0 ? speed : null
  return { name, kind, linkMbps, source: `${sysRoot}/${name}/speed` }
}

export type V6AddressClass = 'global' | 'link_local' | 'ula' | 'teredo' | '6to4' | 'loopback' | 'other'

/** Classifies an IPv6 address for the `addr` sub-test (methodology.md §10). */
export function classifyIpv6 (address: string): V6AddressClass {
  const a = address.toLowerCase().replace(/%.*$/, '')
  if (a === '::1') return 'loopback'
  const first = parseInt(a.split(':')[0] === '' ? '0' : (a.split(':')[0] as string), 16)
  if ((first & 0xffc0) === 0xfe80) return 'link_local'
  if ((first & 0xfe00) === 0xfc00) return 'ula'
  if (a.startsWith('2001:0:') || a.startsWith('2001::') || /^2001:0{1,4}:/.test(a)) return 'teredo'
  if (first === 0x2002) return '6to4'
  if ((first & 0xe000) === 0x2000) return 'global'
  return 'other'
}

/** Every IPv6 address on the host, with its class. */
export function ipv6Addresses (ifaces = os.networkInterfaces()): Array<{ iface: string, address: string, cls: V6AddressClass }> {
  const out: Array<{ iface: string, address: string, cls: V6AddressClass }> = []
  for (const [iface, addrs] of Object.entries(ifaces)) {
    for (const a of addrs ?? []) if (a.family === 'IPv6') out.push({ iface, address: a.address, cls: classifyIpv6(a.address) })
  }
  return out
}

/**
 * Whether an IPv6 default route (::/0) exists that is not a reject route. Linux only
 * (/proc/net/ipv6_route); null elsewhere or when the file is missing (IPv6 disabled).
 */
export async function hasIpv6DefaultRoute ({ platform = process.platform, file = '/proc/net/ipv6_route' } = {}): Promise<boolean | null> {
  if (platform !== 'linux') return null
  const text = await readSys(file)
  if (text === null) return null
  const RTF_REJECT = 0x0200
  return text.split('\n').some((line) => {
    const f = line.trim().split(/\s+/)
    return f.length >= 10 && /^0{32}$/.test(f[0] as string) && f[1] === '00' && (parseInt(f[8] as string, 16) & RTF_REJECT) === 0
  })
}

/**
 * What the interface's byte counters include beyond the IP packet: the link-layer header
 * counted per packet, by ARPHRD type (/sys/class/net/<if>/type). Ethernet (veth, Wi-Fi,
 * most NICs) and loopback carry a 14-byte header (the FCS is not counted); TUN, raw-IP
 * modems and IP tunnels carry none; PPP 2 bytes of protocol field. Unknown types count as
 * Ethernet, the common case, and the side that credits more bytes to the test.
 */
export interface LinkLayer { arpType: number | null, l2HeaderBytes: number, mtu: number | null }

export function l2HeaderBytesOf (arpType: number | null): number {
  switch (arpType) {
    case 65534: case 519: case 768: case 769: case 776: case 778: case 823: return 0
    case 512: return 2
    default: return 14
  }
}

export async function linkLayer (name: string | null, { platform = process.platform, sysRoot = '/sys/class/net' }: { platform?: NodeJS.Platform, sysRoot?: string } = {}): Promise<LinkLayer> {
  if (name === null || platform !== 'linux') return { arpType: null, l2HeaderBytes: l2HeaderBytesOf(null), mtu: null }
  const type = Number(await readSys(`${sysRoot}/${name}/type`) ?? NaN)
  const mtu = Number(await readSys(`${sysRoot}/${name}/mtu`) ?? NaN)
  const arpType = Number.isInteger(type) ? type : null
  return { arpType, l2HeaderBytes: l2HeaderBytesOf(arpType), mtu: Number.isInteger(mtu) && mtu > 0 ? mtu : null }
}
