import { execFile } from 'node:child_process'

/**
 * The kernel's TCP_INFO for the server's side of a test's connections (methodology.md §3).
 * Node exposes no TCP_INFO, so on Linux it is read with `ss -tin` from iproute2, filtered
 * to the server's port, and matched to the test's connections by the peer's address and
 * port. Elsewhere, or without `ss`, the answer is `null` with the reason, never zeros.
 *
 * Linux's chronographs (tcp_info.tcpi_busy_time, tcpi_rwnd_limited, tcpi_sndbuf_limited,
 * shown by ss as busy:, rwnd_limited: and sndbuf_limited:) split the time a connection had
 * data in flight by what held it back; the rest of its life it had nothing to send, which
 * for a download stream means the server did not supply data fast enough.
 */
export interface TcpInfo {
  /** `address:port` of the peer, as ss prints it (IPv6 in brackets). */
  peer: string
  busyMs: number
  rwndLimitedMs: number
  sndbufLimitedMs: number
  bytesSent: number
  bytesAcked: number
  bytesRetrans: number
  bytesReceived: number
  minRttMs: number | null
}

const num = (text: string, re: RegExp): number | null => {
  const m = re.exec(text)
  return m?.[1] === undefined ? null : Number(m[1])
}

/** Parses `ss -tinH` output: a socket line, then an indented line of TCP_INFO fields. */
export function parseSsTcpInfo (text: string): TcpInfo[] {
  const out: TcpInfo[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const head = lines[i] as string
    if (head.trim() === '' || /^\s/.test(head)) continue
    const cols = head.trim().split(/\s+/)
    // With a state filter ss leaves the state column out: Recv-Q Send-Q Local Peer.
    const peer = cols[cols.length - 1]
    const info = lines[i + 1] !== undefined && /^\s/.test(lines[i + 1] as string) ? lines[i + 1] as string : ''
    if (peer === undefined) continue
    out.push({
      peer: peer.replace(/^\[::ffff:([0-9.]+)\]/, '$1'),
      busyMs: num(info, /\bbusy:(\d+)ms/) ?? 0,
      rwndLimitedMs: num(info, /\brwnd_limited:(\d+)ms/) ?? 0,
      sndbufLimitedMs: num(info, /\bsndbuf_limited:(\d+)ms/) ?? 0,
      bytesSent: num(info, /\bbytes_sent:(\d+)/) ?? 0,
      bytesAcked: num(info, /\bbytes_acked:(\d+)/) ?? 0,
      bytesRetrans: num(info, /\bbytes_retrans:(\d+)/) ?? 0,
      bytesReceived: num(info, /\bbytes_received:(\d+)/) ?? 0,
      minRttMs: num(info, /\bminrtt:([\d.]+)/)
    })
  }
  return out
}

export type TcpInfoReader = (localPort: number) => Promise<{ sockets: TcpInfo[] } | { sockets: null, reason: string }>

/** Reads every established socket on `localPort` with `ss`; at most `timeoutMs`. */
export const readTcpInfo: TcpInfoReader = async (localPort, timeoutMs = 2000) => {
  if (process.platform !== 'linux') return { sockets: null, reason: `no TCP_INFO reader on ${process.platform}` }
  return await new Promise((resolve) => {
    execFile('ss', ['-tinH', 'state', 'established', `( sport = :${localPort} )`], { timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024 }, (err, stdout) => {
      if (err !== null) resolve({ sockets: null, reason: `ss (iproute2) failed: ${err.message.slice(0, 200)}` })
      else resolve({ sockets: parseSsTcpInfo(stdout) })
    })
  })
}
