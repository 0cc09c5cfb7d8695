import { readFile } from 'node:fs/promises'
import { execRunner, type CommandRunner } from './command.js'
import { ALL_INTERFACES, readWindowsCounters } from './windows.js'

/**
 * Per-interface byte counters from the operating system, for the cross-traffic check
 * (methodology.md §11: interface bytes minus the test's own bytes) and the scheduler's
 * quiet-line gate (§4 phase 0).
 *
 * Linux exposes them in /proc/net/dev; Windows through PowerShell's Get-NetAdapterStatistics
 * or `netstat -e` (platform/windows.ts). Elsewhere, or when the source cannot be read, the
 * answer is `unavailable` with the reason, never zeros that would look like a quiet line.
 */
export interface IfaceCount {
  rxBytes: number
  txBytes: number
  /** Packets, where the OS counts them: each carries link, IP and TCP headers (cross-traffic accounting). */
  rxPackets?: number
  txPackets?: number
}

export interface InterfaceCounters {
  source: 'proc-net-dev' | 'get-netadapterstatistics' | 'netstat-e' | 'unavailable'
  reason?: string
  ifaces: Record<string, IfaceCount>
  /** TCP segments this host (network namespace) retransmitted since boot; absent where unknown. */
  tcpRetransSegs?: number
}

export const PROC_NET_DEV = '/proc/net/dev'
export const PROC_NET_SNMP = '/proc/net/snmp'

/**
 * Parses /proc/net/dev. The header has two lines; each interface line is
 * `name: rx_bytes rx_packets … (8 receive fields) tx_bytes …`. Names may contain dots and
 * dashes (`eth0.100`, `br-lan`), and old kernels print no space after the colon.
 */
export function parseProcNetDev (text: string): Record<string, IfaceCount> {
  const out: Record<string, IfaceCount> = {}
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':')
    if (colon < 0) continue
    const name = line.slice(0, colon).trim()
    if (name === '' || name.includes('|')) continue
    const fields = line.slice(colon + 1).trim().split(/\s+/).map(Number)
    if (fields.length < 9 || fields.some((v) => !Number.isFinite(v))) continue
    out[name] = { rxBytes: fields[0] as number, txBytes: fields[8] as number, rxPackets: fields[1] as number, txPackets: fields[9] as number }
  }
  return out
}

/** `RetransSegs` from the `Tcp:` lines of /proc/net/snmp (a header line, then a value line). */
export function parseTcpRetransSegs (text: string): number | undefined {
  const lines = text.split('\n').filter((l) => l.startsWith('Tcp:'))
  const names = lines[0]?.trim().split(/\s+/)
  const values = lines[1]?.trim().split(/\s+/)
  const i = names?.indexOf('RetransSegs') ?? -1
  const v = i > 0 ? Number(values?.[i]) : NaN
  return Number.isFinite(v) ? v : undefined
}

export async function readInterfaceCounters ({ platform = process.platform, file = PROC_NET_DEV, snmpFile = PROC_NET_SNMP, run = execRunner }: { platform?: NodeJS.Platform, file?: string, snmpFile?: string, run?: CommandRunner } = {}): Promise<InterfaceCounters> {
  if (platform === 'win32') return await readWindowsCounters(run)
  if (platform !== 'linux') {
    return { source: 'unavailable', reason: `no interface byte counters on ${platform} without a native addon (methodology.md §16)`, ifaces: {} }
  }
  try {
    const ifaces = parseProcNetDev(await readFile(file, 'utf8'))
    const retrans = await readFile(snmpFile, 'utf8').then(parseTcpRetransSegs, () => undefined)
    return { source: 'proc-net-dev', ifaces, ...(retrans === undefined ? {} : { tcpRetransSegs: retrans }) }
  } catch (err) {
    return { source: 'unavailable', reason: `cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`, ifaces: {} }
  }
}

/** Interfaces that carry no traffic off the host: loopback and the like. */
export function isLoopbackName (name: string): boolean {
  return name === 'lo' || name.startsWith('lo:') || name.startsWith('Loopback Pseudo-Interface')
}

/**
 * Bytes moved between two readings, summed over the interfaces in `names` (or over every
 * non-loopback interface when `names` is undefined). Counters that went backwards (an
 * interface re-created, a 32-bit wrap) count as unknown: null, not a negative number.
 */
export function bytesBetween (a: InterfaceCounters, b: InterfaceCounters, names?: readonly string[]): { rxBytes: number, txBytes: number } | null {
  if (a.source === 'unavailable' || b.source === 'unavailable') return null
  // netstat -e has one total over every interface: the best figure for any interface asked about.
  const list = b.ifaces[ALL_INTERFACES] !== undefined ? [ALL_INTERFACES] : names ?? Object.keys(b.ifaces).filter((n) => !isLoopbackName(n))
  let rx = 0
  let tx = 0
  for (const n of list) {
    const x = a.ifaces[n]
    const y = b.ifaces[n]
    if (x === undefined || y === undefined) continue
    if (y.rxBytes < x.rxBytes || y.txBytes < x.txBytes) return null
    rx += y.rxBytes - x.rxBytes
    tx += y.txBytes - x.txBytes
  }
  return { rxBytes: rx, txBytes: tx }
}
