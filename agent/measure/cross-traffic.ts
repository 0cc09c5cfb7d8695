import { isLoopbackName, type InterfaceCounters } from '../platform/net-counters.js'
import { ALL_INTERFACES } from '../platform/windows.js'

/**
 * Cross traffic, measured rather than guessed (methodology.md §11). The interface counters
 * move more than the test's payload even on a quiet line: every packet carries link, IP and
 * TCP headers (3.6 % of a full-size segment on its own, plus Ethernet framing), every data
 * packet is answered by ACKs, and a lossy path retransmits. All three are counted here from
 * the interface's own counters, so what is left is traffic that is not the test's:
 *
 *   own  = test payload + packets × (link + IP + TCP header) + retransmitted segments × MSS
 *          + payload counted but not yet reachable by the test's count (heldBytes)
 *   extra = interface bytes − own
 *
 * Headers are counted per packet as the interface counts them, so a GSO/GRO super-packet
 * (one header, up to 64 KB) is accounted exactly as the counter saw it. Retransmissions only
 * show on the interface of the side that sends them twice: the agent's own (upload) come
 * from the TCP `RetransSegs` counter; the server's (download) are lost before they reach
 * the agent, so the agent's interface sees each payload byte once.
 *
 * The window is the part of a transfer between two samples (after start-up), so bytes still
 * queued when the streams are cut count on neither side. An upload is counted where it
 * arrives, at the server, while the interface counts it as it leaves: when a queue between
 * the two fills during the window (a router's buffer, bloating), the interface has sent the
 * queue's growth more than the server has received. That growth is measured, not assumed:
 * the loaded-latency probes cross the same queue, so their round trips at the two ends of
 * the window give its growth in time, and the window's rate turns that into bytes
 * (`queueGrowthBytes`). A download's counterpart is the payload the agent's TCP holds out of
 * order behind a loss, which grows the same way (`heldBytes`). Both are credited on the data
 * side only. A competing flow at 10 % of the
 * line's rate leaves about 11 % of the test's bytes as extra; a quiet path leaves well under
 * 1 % (test/integration/cross-traffic.test.ts measures both on veth and TUN links).
 */
export const CROSS_TRAFFIC = { share: 0.03, mbps: 1 } as const

/** TCP header with the timestamp option Linux sends by default (20 + 12 bytes). */
export const TCP_HEADER_BYTES = 32
export const IP_HEADER_BYTES = { 4: 20, 6: 40 } as const

/** One reading of the counters of the interface a test uses. */
export interface IfaceReading {
  rxBytes: number
  txBytes: number
  rxPackets: number | null
  txPackets: number | null
  retransSegs: number | null
  /** Loopback counts every byte once received and once sent: only the received side is used. */
  loopback: boolean
}

export function ifaceReading (c: InterfaceCounters, iface: string): IfaceReading | null {
  // `netstat -e` (Windows) has one total over every interface: the best figure for any one.
  const x = c.ifaces[iface] ?? c.ifaces[ALL_INTERFACES]
  if (c.source === 'unavailable' || x === undefined) return null
  return { rxBytes: x.rxBytes, txBytes: x.txBytes, rxPackets: x.rxPackets ?? null, txPackets: x.txPackets ?? null, retransSegs: c.tcpRetransSegs ?? null, loopback: isLoopbackName(iface) }
}

export interface Framing {
  /** Link-layer header bytes per packet as the counters include them (platform/link.ts). */
  l2HeaderBytes: number
  family: 4 | 6 | null
  mtu: number | null
}

export interface CrossTrafficFigures {
  ifaceBytes: number
  testBytes: number
  /** Link, IP and TCP headers of every packet the interface counted. */
  headerBytes: number
  /** Payload the agent sent twice (TCP retransmissions). */
  retransBytes: number
  /**
   * Payload the interface counted that the test's count had not yet reached, its growth over the
   * window (`heldBytes`): an upload still queued on the path before the server, a download held
   * out of order by the agent's TCP behind a lost segment.
   */
  queuedBytes: number
  /** What is left: traffic that was not the test's. Negative when the accounting over-credits. */
  extraBytes: number
  allowanceBytes: number
  seconds: number
}

/**
 * Accounts one window of one direction; `testBytes` are the test's payload bytes over the
 * same window. Each side of the interface is accounted on its own: the side that carries
 * the test's data must carry its payload (plus, when the agent sends, its retransmissions);
 * the other side carries only ACKs, which are all header, so any payload there is someone
 * else's. A retransmission credit therefore can never hide traffic in the ACK direction.
 */
export function accountCrossTraffic (a: IfaceReading, b: IfaceReading, testBytes: number, seconds: number, framing: Framing, direction: 'download' | 'upload', heldBytes = 0): CrossTrafficFigures | null {
  const drx = b.rxBytes - a.rxBytes
  const dtx = b.txBytes - a.txBytes
  if (drx < 0 || dtx < 0) return null
  const ip = IP_HEADER_BYTES[framing.family ?? 4]
  const perPacket = framing.l2HeaderBytes + ip + TCP_HEADER_BYTES
  const mss = Math.max(536, Math.min(framing.mtu ?? 1500, 65535) - ip - TCP_HEADER_BYTES)
  // Without packet counts, assume full-size segments: the fewest packets, the least credit.
  const packetsOf = (bytes: number, pa: number | null, pb: number | null): number => pa !== null && pb !== null ? Math.max(0, pb - pa) : Math.ceil(bytes / (mss + perPacket))
  const segs = direction === 'upload' && a.retransSegs !== null && b.retransSegs !== null ? Math.max(0, b.retransSegs - a.retransSegs) : 0
  const retransBytes = segs * mss
  const queuedBytes = Math.max(0, Math.round(heldBytes))
  const allowanceBytes = Math.round(Math.max(CROSS_TRAFFIC.share * testBytes, (CROSS_TRAFFIC.mbps * 1e6 / 8) * seconds))
  if (b.loopback) {
    const headerBytes = packetsOf(drx, a.rxPackets, b.rxPackets) * perPacket
    return { ifaceBytes: drx, testBytes, headerBytes, retransBytes, queuedBytes, extraBytes: drx - testBytes - headerBytes - retransBytes - queuedBytes, allowanceBytes, seconds }
  }
  const rxHeaders = packetsOf(drx, a.rxPackets, b.rxPackets) * perPacket
  const txHeaders = packetsOf(dtx, a.txPackets, b.txPackets) * perPacket
  const [dataBytes, dataHeaders, ackBytes, ackHeaders] = direction === 'download' ? [drx, rxHeaders, dtx, txHeaders] : [dtx, txHeaders, drx, rxHeaders]
  // Neither side may offset the other: an over-credit on the data side (a retransmission
  // dropped before it reached the interface) must not hide traffic on the ACK side.
  const extraData = Math.max(0, dataBytes - dataHeaders - testBytes - retransBytes - queuedBytes)
  const extraAck = Math.max(0, ackBytes - ackHeaders)
  return { ifaceBytes: drx + dtx, testBytes, headerBytes: rxHeaders + txHeaders, retransBytes, queuedBytes, extraBytes: extraData + extraAck, allowanceBytes, seconds }
}

const mb = (b: number): string => (b / 1e6).toFixed(2)

/**
 * The reason for `cross_traffic`, or null when the window's extra bytes are within the allowance;
 * it names the interface, when given, before the direction.
 */
export function crossTrafficReason (direction: 'download' | 'upload', f: CrossTrafficFigures, iface?: string): string | null {
  if (f.extraBytes <= f.allowanceBytes) return null
  const mbps = f.seconds > 0 ? (f.extraBytes * 8 / f.seconds / 1e6).toFixed(1) : '?'
  const held = f.queuedBytes > 0 ? ` + ${mb(f.queuedBytes)} MB ${direction === 'download' ? 'held out of order behind losses' : 'still queued on the path'}` : ''
  return `${iface === undefined ? '' : `${iface} `}${direction}: the interface moved ${mb(f.ifaceBytes)} MB in ${f.seconds.toFixed(1)} s against ${mb(f.testBytes)} MB of test payload + ${mb(f.headerBytes)} MB of headers and ACKs + ${mb(f.retransBytes)} MB retransmitted${held}: ${mb(f.extraBytes)} MB (${mbps} Mbit/s) of other traffic > allowance ${mb(f.allowanceBytes)} MB (${CROSS_TRAFFIC.share * 100} % of test bytes or ${CROSS_TRAFFIC.mbps} Mbit/s)`
}

/**
 * How much an upload's queue on the path grew over [fromMs, toMs], in bytes: the loaded-latency
 * probes' round trips (they queue behind the upload) near each end, the later median less the
 * earlier, at the window's rate. Zero when either end has no probe or the queue shrank.
 */
export function queueGrowthBytes (probes: ReadonlyArray<{ tMs: number, rttMs: number }>, fromMs: number, toMs: number, bytesPerMs: number): number {
  const near = (lo: number, hi: number): number | null => {
    const rtts = probes.filter((p) => p.tMs >= lo && p.tMs <= hi).map((p) => p.rttMs).sort((x, y) => x - y)
    return rtts.length === 0 ? null : rtts[Math.floor((rtts.length - 1) / 2)] as number
  }
  const start = near(fromMs - 500, fromMs + 500)
  const end = near(toMs - 1000, toMs)
  if (start === null || end === null || !(bytesPerMs > 0)) return 0
  return Math.max(0, (end - start) * bytesPerMs)
}

/**
 * What the interface counted over a window that the test's own count had not reached by its
 * end, beyond what it had not reached at its start (credited on the data side):
 *
 * - upload: the growth of the queue between the interface and the server that counts
 *   (queueGrowthBytes);
 * - download: payload the agent's TCP holds out of order. A segment lost on the path leaves a
 *   hole; what arrives behind it has crossed the interface but is not readable until the
 *   retransmission arrives, a round trip later. On a lossy path nearly every stream has a hole
 *   at any moment, so the hold is about the rate × the round trip, and grows as a queue on the
 *   path fills: by up to the rate × the growth of the round trip (the same probe measure).
 *   Only when the server retransmitted (its TCP_INFO, `serverRetransBytes`): without a loss
 *   nothing is held. Seen on the accuracy bench's 100/20 path at 1 % loss under bbr with eight
 *   streams, whose round trip rose from ~100 to 200–270 ms over the window: 1.8–2.3 MB counted
 *   by the interface beyond the payload read, flagged as cross traffic on a path that carried
 *   nothing else (docs/accuracy.md).
 */
export function heldBytes (direction: 'download' | 'upload', probes: ReadonlyArray<{ tMs: number, rttMs: number }>, fromMs: number, toMs: number,
  bytesPerMs: number, serverRetransBytes: number | null): number {
  if (direction === 'download' && !(serverRetransBytes !== null && serverRetransBytes > 0)) return 0
  return queueGrowthBytes(probes, fromMs, toMs, bytesPerMs)
}
