import { describe, expect, it } from 'vitest'
import { clientLimitedReasons, confidenceOf, FlagSet, localLinkReason, overallConfidence } from '../../agent/measure/validity.js'
import { accountCrossTraffic, crossTrafficReason, heldBytes, ifaceReading, queueGrowthBytes, type IfaceReading } from '../../agent/measure/cross-traffic.js'
import { l2HeaderBytesOf } from '../../agent/platform/link.js'
import type { Direction } from '../../shared/schemas/result.js'

function dir (over: Partial<Direction> = {}): Direction {
  return {
    mbps: 100,
    streamsInitial: 4,
    streamsMax: 4,
    warmupEndS: 1,
    windowS: 9,
    durationS: 10,
    bytes: 125_000_000,
    meanWholeMbps: 95,
    p90_1sMbps: 102,
    trimmedMeanMbps: 99,
    min1sMbps: 97,
    cv1s: 0.02,
    countedAt: 'client',
    byteCapped: false,
    streamErrors: 0,
    loaded: null,
    cpu: { processBusyPct: 20, systemBusyPct: 30, eventLoopP99Ms: 5, calibratedCeilingMbps: null },
    rates1sMbps: [100, 100, 100, 100, 100, 100, 100, 100, 100],
    samples: { intervalMs: 100, cumulativeBytes: [], tMs: [] },
    ...over
  }
}

describe('client_limited (methodology.md §12)', () => {
  it('fires on process CPU, machine CPU, event-loop delay and the calibrated ceiling, each with its numbers', () => {
    expect(clientLimitedReasons('download', dir(), null)).toEqual([])
    expect(clientLimitedReasons('download', dir({ cpu: { processBusyPct: 95, systemBusyPct: 10, eventLoopP99Ms: 1, calibratedCeilingMbps: null } }), null)[0]).toMatch(/process CPU 95 %/)
    expect(clientLimitedReasons('upload', dir({ cpu: { processBusyPct: 1, systemBusyPct: 92, eventLoopP99Ms: 1, calibratedCeilingMbps: null } }), null)[0]).toMatch(/machine CPU 92 %/)
    expect(clientLimitedReasons('download', dir({ cpu: { processBusyPct: 1, systemBusyPct: 1, eventLoopP99Ms: 60, calibratedCeilingMbps: null } }), null)[0]).toMatch(/event-loop delay p99 60 ms/)
    // A busy machine whose agent got the CPU when it wanted it is not the limit ...
    expect(clientLimitedReasons('upload', dir({ cpu: { processBusyPct: 30, systemBusyPct: 99, eventLoopP99Ms: 2, calibratedCeilingMbps: null, runQueueWaitPct: 34 } }), null)).toEqual([])
    // ... one whose agent waited for it is.
    expect(clientLimitedReasons('upload', dir({ cpu: { processBusyPct: 30, systemBusyPct: 99, eventLoopP99Ms: 2, calibratedCeilingMbps: null, runQueueWaitPct: 65 } }), null)[0]).toMatch(/waited for a CPU 65 %/)
    // The 1 Gbit/s cubic upload: p99 48.7 ms, but one stall of 176 ms.
    expect(clientLimitedReasons('upload', dir({ cpu: { processBusyPct: 60, systemBusyPct: 50, eventLoopP99Ms: 48.7, eventLoopMaxMs: 176, calibratedCeilingMbps: null } }), null)[0]).toMatch(/stalled for 176 ms ≥ 150 ms/)
    expect(clientLimitedReasons('download', dir({ mbps: 800 }), 1000)[0]).toMatch(/≥ 80 % of this agent's calibrated loopback ceiling 1000 Mbps/)
    expect(clientLimitedReasons('download', dir({ mbps: 790 }), 1000)).toEqual([])
  })
})

describe('local_link_limited', () => {
  it('flags a result at ≥ 90 % of the NIC speed', () => {
    expect(localLinkReason('download', 941, 1000, 'eth0')).toMatch(/at least 941 Mbps, limited by this machine's link \(eth0, 1000 Mbps, at most ~941 Mbps of payload\).*faster card or from the router/)
    expect(localLinkReason('download', 80, 100, 'eth0')).toBeNull()
    expect(localLinkReason('download', 80, null, 'eth0')).toBeNull()
  })
})

describe('cross-traffic accounting (cross-traffic.ts)', () => {
  // A download of 100 MB of payload in 1448-byte segments, one ACK per two segments.
  const data = Math.ceil(100e6 / 1448)
  const acks = Math.ceil(data / 2)
  const zero: IfaceReading = { rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0, retransSegs: 0, loopback: false }
  const download = (l2: number, extra: { rx?: [number, number], tx?: [number, number] } = {}): IfaceReading => {
    const h = l2 + 20 + 32
    const [rxB, rxP] = extra.rx ?? [0, 0]
    const [txB, txP] = extra.tx ?? [0, 0]
    // Extra packets carry their own headers on top of their payload.
    return { rxBytes: 100e6 + (data + rxP) * h + rxB, rxPackets: data + rxP, txBytes: (acks + txP) * h + txB, txPackets: acks + txP, retransSegs: 0, loopback: false }
  }
  const tun = { l2HeaderBytes: 0, family: 4 as const, mtu: 1500 }
  it('credits the headers of every packet on TUN (none) and Ethernet (14 B) links: a quiet path has no extra bytes', () => {
    const b = download(0)
    // What the old rule saw: 5.4 % more bytes than the payload on TUN, against a 5 % allowance.
    expect((b.rxBytes + b.txBytes) / 100e6).toBeGreaterThan(1.05)
    const f = accountCrossTraffic(zero, b, 100e6, 10, tun, 'download')!
    expect(f.extraBytes).toBe(0)
    expect(crossTrafficReason('download', f)).toBeNull()
    const e = download(14)
    expect((e.rxBytes + e.txBytes) / 100e6).toBeGreaterThan(1.068)
    expect(accountCrossTraffic(zero, e, 100e6, 10, { ...tun, l2HeaderBytes: l2HeaderBytesOf(1) }, 'download')!.extraBytes).toBe(0)
  })
  it('credits the agent\'s own retransmissions at the MSS on upload, never on the ACK side', () => {
    // Upload: the data leaves on tx, ACKs arrive on rx.
    const up = (retransSegs: number, rxExtra = 0): IfaceReading => ({ rxBytes: acks * 52 + rxExtra, rxPackets: acks, txBytes: 100e6 + 3000 * 1448 + (data + 3000) * 52, txPackets: data + 3000, retransSegs, loopback: false })
    expect(crossTrafficReason('upload', accountCrossTraffic(zero, up(0), 100e6, 10, tun, 'upload')!)).not.toBeNull()
    const f = accountCrossTraffic(zero, up(3000), 100e6, 10, tun, 'upload')!
    expect(f).toMatchObject({ retransBytes: 3000 * 1448, extraBytes: 0 })
    // Too many retransmissions counted (segments dropped before the interface) cannot hide payload on the ACK side.
    expect(accountCrossTraffic(zero, up(30_000, 5e6), 100e6, 10, tun, 'upload')!.extraBytes).toBe(5e6)
    // The server's retransmissions on a download reach the agent once: no credit.
    expect(accountCrossTraffic(zero, { ...download(0), retransSegs: 500 }, 100e6, 10, tun, 'download')!.retransBytes).toBe(0)
  })
  it('credits an upload\'s queue growing on the path (measured by the probes), on the data side only', () => {
    // 100 MB over 10 s left the interface; the server counted 96.35 MB: 3.65 MB sat in a queue
    // that grew from 20 to 312 ms (the bench's cubic, 400 ms router queue) over the window.
    const up = (rxExtra = 0): IfaceReading => ({ rxBytes: acks * 52 + rxExtra, rxPackets: acks, txBytes: 100e6 + data * 52, txPackets: data, retransSegs: 0, loopback: false })
    const counted = 96.35e6
    expect(crossTrafficReason('upload', accountCrossTraffic(zero, up(), counted, 10, tun, 'upload')!)).not.toBeNull()
    const probes = Array.from({ length: 41 }, (_, i) => ({ tMs: i * 250, rttMs: 20 + (i * 250 * 292) / 10_000 }))
    const grown = queueGrowthBytes(probes, 0, 10_000, counted / 10_000)
    // Medians near the ends: 27.3 ms (0–0.5 s) and 297.4 ms (9–10 s), at 9.635 MB/s.
    expect(grown / 1e6).toBeCloseTo(2.60, 2)
    const f = accountCrossTraffic(zero, up(), counted, 10, tun, 'upload', grown)!
    expect(f.queuedBytes).toBe(Math.round(grown))
    expect(crossTrafficReason('upload', f)).toBeNull()
    // The credit cannot hide payload on the ACK side.
    expect(accountCrossTraffic(zero, up(5e6), counted, 10, tun, 'upload', grown)!.extraBytes).toBe(f.extraBytes + 5e6)
    expect(heldBytes('upload', probes, 0, 10_000, counted / 10_000, null)).toBe(grown)
    // No probe near an end, or a queue that drained: no credit.
    expect(queueGrowthBytes(probes.slice(0, 10), 0, 10_000, 10_000)).toBe(0)
    expect(queueGrowthBytes(probes.map((p) => ({ ...p, rttMs: 400 - p.rttMs })), 0, 10_000, 10_000)).toBe(0)
  })
  it('credits a download\'s payload held out of order behind losses as the round trip grows, only when the server retransmitted', () => {
    // The bench's 100/20 path at 1 % loss, bbr, eight streams: 52.95 MB on the interface in 4.1 s
    // for 47.25 MB read, while the probes' round trip grew from ~20 to ~250 ms.
    const dl = (rxExtra = 0): IfaceReading => ({ rxBytes: 47.25e6 + data * 52 + rxExtra + 2.27e6, rxPackets: data, txBytes: acks * 52, txPackets: acks, retransSegs: 0, loopback: false })
    const read = 47.25e6
    expect(crossTrafficReason('download', accountCrossTraffic(zero, dl(), read, 4.1, tun, 'download')!)).not.toBeNull()
    const probes = Array.from({ length: 17 }, (_, i) => ({ tMs: 1000 + i * 250, rttMs: 20 + i * 16 }))
    const rate = read / 4100
    // No retransmission by the server (or its view unavailable): nothing can be held.
    expect(heldBytes('download', probes, 1000, 5100, rate, 0)).toBe(0)
    expect(heldBytes('download', probes, 1000, 5100, rate, null)).toBe(0)
    const held = heldBytes('download', probes, 1000, 5100, rate, 679_112)
    expect(held).toBe(queueGrowthBytes(probes, 1000, 5100, rate))
    expect(held).toBeGreaterThan(2.27e6)
    const f = accountCrossTraffic(zero, dl(), read, 4.1, tun, 'download', held)!
    expect(crossTrafficReason('download', f)).toBeNull()
    // A competing flow of 10 % of the rate is still seen beyond the credit.
    expect(crossTrafficReason('download', accountCrossTraffic(zero, dl(0.1 * read), read, 4.1, tun, 'download', held)!)).toMatch(/held out of order behind losses/)
  })

  it('flags a competing flow of 10 % of the test bytes in either direction, and names the figures', () => {
    const f = accountCrossTraffic(zero, download(14, { rx: [10e6, 7000] }), 100e6, 10, { ...tun, l2HeaderBytes: 14 }, 'download')!
    expect(f.extraBytes).toBe(10e6)
    expect(crossTrafficReason('download', f)).toMatch(/10\.00 MB \(8\.0 Mbit\/s\) of other traffic > allowance 3\.00 MB/)
    expect(accountCrossTraffic(zero, download(14, { tx: [10e6, 7000] }), 100e6, 10, { ...tun, l2HeaderBytes: 14 }, 'download')!.extraBytes).toBe(10e6)
  })
  it('has a floor of 1 Mbit/s for small tests, counts IPv6 headers as 40 bytes, and refuses counters that went back', () => {
    const b = { ...zero, rxBytes: 2_000_000, rxPackets: 100 }
    expect(accountCrossTraffic(zero, b, 1_000_000, 10, { l2HeaderBytes: 14, family: 6, mtu: 1500 }, 'download')).toMatchObject({ headerBytes: 100 * 86, allowanceBytes: 1_250_000 })
    expect(accountCrossTraffic({ ...zero, rxBytes: 10 }, zero, 0, 1, tun, 'download')).toBeNull()
  })
  it('reads loopback counters once (received only)', () => {
    const c = { source: 'proc-net-dev' as const, ifaces: { lo: { rxBytes: 10e6 + 100 * 66, txBytes: 10e6 + 100 * 66, rxPackets: 100, txPackets: 100 } }, tcpRetransSegs: 7 }
    const lo = ifaceReading(c, 'lo')!
    expect(lo.loopback).toBe(true)
    expect(accountCrossTraffic(zero, lo, 10e6, 1, { l2HeaderBytes: 14, family: 4, mtu: 65536 }, 'download')).toMatchObject({ ifaceBytes: 10e6 + 6600, extraBytes: 0 })
    expect(ifaceReading(c, 'wlan0')).toBeNull()
  })
})

describe('confidence (methodology.md §11)', () => {
  it('grades CV, caps a short window at medium and needs five 1-s samples', () => {
    expect(confidenceOf(0.1, 8, 8)).toBe('high')
    expect(confidenceOf(0.1, 5, 5)).toBe('medium')
    expect(confidenceOf(0.3, 8, 8)).toBe('medium')
    expect(confidenceOf(0.4, 8, 8)).toBe('low')
    expect(confidenceOf(0.01, 8, 4)).toBe('low')
    expect(confidenceOf(null, 8, 8)).toBe('low')
    // Stopped by the stability rule after a 4 s window: not capped.
    expect(confidenceOf(0.03, 4.2, 4, true)).toBe('high')
  })
  it('is the weakest direction, and low when the figure is disqualified', () => {
    expect(overallConfidence([dir(), dir({ cv1s: 0.3 })], [])).toBe('medium')
    expect(overallConfidence([dir()], ['client_limited'])).toBe('low')
    expect(overallConfidence([dir()], ['degraded'])).toBe('medium')
    expect(overallConfidence([], [])).toBeNull()
  })
  it('records every firing with its reason', () => {
    const f = new FlagSet()
    f.add('unstable', 'a')
    f.add('unstable', 'b')
    expect(f.flags).toEqual(['unstable'])
    expect(f.reasons).toHaveLength(2)
  })
})
