import { Type, type Static } from '@sinclair/typebox'
import { ByteCount, ClockOffsetMs, ConnectionClass, Count, IsoDateTime, Mbps, Ms, Nullable, Percent, Seconds, SeqNumber, Ulid } from './common.js'

/**
 * The versioned result record: what an agent measures and sends, and what the collector
 * stores verbatim. docs/result-record.md documents every field and its unit.
 *
 * Versioning follows RIPE Atlas `mver`: a minor bump may only add optional fields, a major
 * bump needs a new collector parser. The collector accepts any 1.x.
 */
export const RESULT_SCHEMA_VERSION = '1.4.0'
export const RESULT_SCHEMA_MAJOR = 1

export const LatencyStats = Type.Object({
  n: Count,
  minMs: Nullable(Ms),
  medianMs: Nullable(Ms),
  meanMs: Nullable(Ms),
  p90Ms: Nullable(Ms),
  iqmMs: Nullable(Ms),
  jitterMs: Nullable(Ms),
  jitterRfc3550Ms: Nullable(Ms),
  samplesMs: Type.Array(Ms, { maxItems: 2000 })
})
export type LatencyStats = Static<typeof LatencyStats>

export const ColdConnect = Type.Object({
  tcpMs: Nullable(Ms),
  tlsMs: Nullable(Ms),
  ttfbMs: Nullable(Ms),
  /** 1.1: how many cold connects the medians above come from. */
  n: Type.Optional(Count)
})

/** 1.4: the load the loaded-latency probes ran under (a queue's delay depends on what fills it). */
export const ProbeLoad = Type.Object({
  /** The span of the probes, seconds since the transfer started. */
  fromS: Type.Number({ minimum: 0, maximum: 3600 }),
  toS: Type.Number({ minimum: 0, maximum: 3600 }),
  /** Payload goodput of the test's streams over that span (null when no sample falls inside it). */
  mbps: Nullable(Mbps),
  /** Streams open over that span: fewest and most. */
  streamsMin: Type.Integer({ minimum: 0, maximum: 64 }),
  streamsMax: Type.Integer({ minimum: 0, maximum: 64 })
})
export type ProbeLoad = Static<typeof ProbeLoad>

export const LoadedLatency = Type.Intersect([LatencyStats, Type.Object({
  increaseMs: Nullable(Type.Number({ minimum: -600_000, maximum: 600_000 })),
  rpm: Nullable(Type.Number({ minimum: 0, maximum: 1e7 })),
  load: Type.Optional(ProbeLoad)
})])
export type LoadedLatency = Static<typeof LoadedLatency>

export const CpuUse = Type.Object({
  processBusyPct: Nullable(Percent),
  systemBusyPct: Nullable(Percent),
  eventLoopP99Ms: Nullable(Ms),
  calibratedCeilingMbps: Nullable(Mbps),
  /** 1.1: event-loop delay median and maximum over the transfer. */
  eventLoopP50Ms: Type.Optional(Nullable(Ms)),
  eventLoopMaxMs: Type.Optional(Nullable(Ms)),
  /** 1.2: share of the transfer the agent's main thread waited for a CPU (Linux schedstat), %. */
  runQueueWaitPct: Type.Optional(Nullable(Percent))
})

/** TCP_INFO of the server's connections of one kind in one test, summed (collector/speedtest/tcp-info.ts). */
export const ServerTcp = Type.Object({
  sockets: Type.Integer({ minimum: 0 }),
  elapsedMs: Type.Number({ minimum: 0 }),
  busyMs: Type.Number({ minimum: 0 }),
  rwndLimitedMs: Type.Number({ minimum: 0 }),
  sndbufLimitedMs: Type.Number({ minimum: 0 }),
  idleMs: Type.Number({ minimum: 0 }),
  bytesSent: Type.Number({ minimum: 0 }),
  bytesAcked: Type.Number({ minimum: 0 }),
  bytesRetrans: Type.Number({ minimum: 0 }),
  bytesReceived: Type.Number({ minimum: 0 }),
  minRttMs: Nullable(Type.Number({ minimum: 0 }))
})
export type ServerTcp = Static<typeof ServerTcp>

/**
 * What the test server reports about one test (GET /speedtest/summary?test=…), read while the
 * streams are still open: its byte counts, back-pressure, TCP_INFO and the proxy headers its
 * requests carried. The agent keeps the part for each direction with that direction.
 */
export const ServerTestSummary = Type.Object({
  test: Type.String({ maxLength: 100 }),
  known: Type.Boolean(),
  download: Type.Object({ bytes: Type.Number({ minimum: 0 }), connections: Type.Integer({ minimum: 0 }), blockedMs: Type.Number({ minimum: 0 }), tcp: Nullable(ServerTcp) }),
  upload: Type.Object({ bytes: Type.Number({ minimum: 0 }), connections: Type.Integer({ minimum: 0 }), tcp: Nullable(ServerTcp) }),
  tcpUnavailable: Nullable(Type.String({ maxLength: 300 })),
  proxyHeaders: Type.Array(Type.String({ maxLength: 300 }), { maxItems: 8 }),
  clientAddresses: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 8 }),
  requests: Type.Integer({ minimum: 0 })
})
export type ServerTestSummary = Static<typeof ServerTestSummary>

/** 1.2: the server's view of one direction, with what the agent had counted at the same moment. */
export const ServerView = Type.Object({
  bytes: Type.Number({ minimum: 0 }),
  connections: Type.Integer({ minimum: 0 }),
  /** Download: time the server's streams waited on back-pressure, ms. */
  blockedMs: Type.Optional(Type.Number({ minimum: 0 })),
  tcp: Nullable(ServerTcp),
  tcpUnavailable: Nullable(Type.String({ maxLength: 300 })),
  proxyHeaders: Type.Array(Type.String({ maxLength: 300 }), { maxItems: 8 }),
  /** Payload bytes the agent had counted when the summary arrived. */
  agentBytes: Type.Number({ minimum: 0 }),
  /** A `Via` header the agent saw on a response, if any. */
  responseVia: Nullable(Type.String({ maxLength: 300 }))
})
export type ServerView = Static<typeof ServerView>

export const Direction = Type.Object({
  /** Headline: steady-state goodput of payload bytes after the detected warm-up, no overhead factor. */
  mbps: Mbps,
  streamsInitial: Type.Integer({ minimum: 1, maximum: 64 }),
  streamsMax: Type.Integer({ minimum: 1, maximum: 64 }),
  warmupEndS: Nullable(Type.Number({ minimum: 0, maximum: 3600 })),
  windowS: Type.Number({ minimum: 0, maximum: 3600 }),
  durationS: Type.Number({ minimum: 0, maximum: 3600 }),
  bytes: ByteCount,
  meanWholeMbps: Nullable(Mbps),
  p90_1sMbps: Nullable(Mbps),
  trimmedMeanMbps: Nullable(Mbps),
  min1sMbps: Nullable(Mbps),
  cv1s: Nullable(Type.Number({ minimum: 0, maximum: 1000 })),
  countedAt: Type.Union([Type.Literal('client'), Type.Literal('server')], { description: 'Which side counted the bytes' }),
  byteCapped: Type.Boolean(),
  streamErrors: Count,
  loaded: Nullable(LoadedLatency),
  cpu: Nullable(CpuUse),
  /** 1.1: why the transfer ended: hard time cap, early stop on a stable fast link, byte cap, every stream failed, aborted. */
  stopReason: Type.Optional(Type.Union([Type.Literal('time_cap'), Type.Literal('early_stop'), Type.Literal('byte_cap'), Type.Literal('streams_failed'), Type.Literal('aborted')])),
  /** 1.1: 1-s rates over the steady window, Mbps (the series behind p90_1sMbps, min1sMbps and cv1s). */
  rates1sMbps: Type.Optional(Type.Array(Mbps, { maxItems: 600 })),
  /** 1.2: true when `mbps` is a lower bound: the machine's own link was the limit (local_link_limited). */
  atLeast: Type.Optional(Type.Boolean()),
  /** 1.2: the server's own counters of this direction (null when the server gave none). */
  server: Type.Optional(Nullable(ServerView)),
  /** 1.2: seconds of the steady window left out because streams had just been added (their slow start). */
  excludedS: Type.Optional(Type.Number({ minimum: 0 })),
  /** 1.2: least-squares line over the last (up to six) 1-s rates: relative change across them and its t statistic (null: no scatter). */
  endTrend: Type.Optional(Nullable(Type.Object({ change: Type.Number(), t: Nullable(Type.Number()), n: Type.Integer({ minimum: 0 }) }))),
  /** 1.1: address family the transfer connections were forced to; null when the OS chose. */
  forcedFamily: Type.Optional(Nullable(Type.Union([Type.Literal(4), Type.Literal(6)]))),
  samples: Type.Object({
    intervalMs: Type.Number({ minimum: 1, maximum: 600_000 }),
    /** Cumulative payload bytes of all streams at each sample, receiver side. */
    cumulativeBytes: Type.Array(ByteCount, { maxItems: 10_000 }),
    /** Sample times in ms since the first stream started (monotonic clock). */
    tMs: Type.Array(Type.Number({ minimum: 0, maximum: 3_600_000 }), { maxItems: 10_000 }),
    /** 1.1: open streams at each sample (the dynamic ramp). */
    streams: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 64 }), { maxItems: 10_000 })),
    /** 1.1: cumulative payload bytes per stream at each sample ([stream][sample]); download only (upload is counted by the server as one total). */
    perStreamCumBytes: Type.Optional(Type.Array(Type.Array(ByteCount, { maxItems: 10_000 }), { maxItems: 64 }))
  })
})
export type Direction = Static<typeof Direction>

export const Ipv6Check = Type.Object({
  name: Type.String({ maxLength: 40 }),
  ok: Nullable(Type.Boolean()),
  detail: Type.String({ maxLength: 300 })
})
export type Ipv6Check = Static<typeof Ipv6Check>

export const LatencyTarget = Type.Object({
  url: Type.String({ maxLength: 500 }),
  family: Type.Union([Type.Literal(4), Type.Literal(6)]),
  method: Type.Union([Type.Literal('tcp_connect'), Type.Literal('http_ping')]),
  attempts: Count,
  failures: Count,
  failureReasons: Type.Array(Type.String({ maxLength: 200 }), { maxItems: 20 }),
  minMs: Nullable(Ms),
  medianMs: Nullable(Ms),
  p95Ms: Nullable(Ms),
  samplesMs: Type.Array(Ms, { maxItems: 200 })
})
export type LatencyTarget = Static<typeof LatencyTarget>

export const Ipv6Result = Type.Object({
  state: Type.Union([Type.Literal('capable'), Type.Literal('works'), Type.Literal('broken'), Type.Literal('none')],
    { description: 'capable: global address only; works: IPv6 connections succeed; broken: address present but IPv6 fails; none: no global IPv6 address' }),
  globalAddress: Type.Boolean(),
  aaaa: Nullable(Type.Boolean()),
  connect6: Nullable(Type.Boolean()),
  connect4: Nullable(Type.Boolean()),
  ping6MedianMs: Nullable(Ms),
  ping4MedianMs: Nullable(Ms),
  mainTestFamily: Nullable(Type.Union([Type.Literal(4), Type.Literal(6)])),
  forcedV6Mbps: Nullable(Mbps),
  failures: Type.Array(Type.String({ maxLength: 200 }), { maxItems: 50 }),
  autoSelectFamily: Nullable(Type.Boolean()),
  /** 1.1: every sub-test item by item: name, outcome (null = not run) and what was seen. */
  checks: Type.Optional(Type.Array(Ipv6Check, { maxItems: 30 }))
})
export type Ipv6Result = Static<typeof Ipv6Result>

/** RFC 6052 §2.2: the prefix lengths an IPv4-embedded IPv6 address may have. */
export const NAT64_PREFIX_LENGTHS = [32, 40, 48, 56, 64, 96] as const

/** 1.3: one national e-service tried over IPv6 alone (its AAAA only, never its A). */
export const Ipv6OnlyService = Type.Object({
  url: Type.String({ maxLength: 500 }),
  /** The name has an AAAA record (true for an IPv6 literal); null when the lookup itself failed. */
  aaaa: Nullable(Type.Boolean()),
  address: Nullable(Type.String({ maxLength: 64 })),
  /** An HTTP answer below 500 came back over IPv6; null when there was no AAAA to try. */
  ok: Nullable(Type.Boolean()),
  httpStatus: Nullable(Type.Integer({ minimum: 100, maximum: 599 })),
  ms: Nullable(Ms),
  detail: Type.String({ maxLength: 300 })
})
export type Ipv6OnlyService = Static<typeof Ipv6OnlyService>

/**
 * 1.3: IPv6-only readiness (kind 'ipv6_only'; docs/methodology.md §10.1): NAT64/DNS64 found
 * by RFC 7050 (the AAAA of ipv4only.arpa), IPv6 connectivity, the national e-services over
 * IPv6 alone, and whether this line could run IPv6-only today.
 */
export const Ipv6OnlyResult = Type.Object({
  dns64: Type.Object({
    /** true: ipv4only.arpa has an AAAA embedding 192.0.0.170/171; false: it has none; null: the lookup failed. */
    found: Nullable(Type.Boolean()),
    /** NAT64 prefixes learnt, e.g. 64:ff9b::/96. */
    prefixes: Type.Array(Type.Object({
      prefix: Type.String({ maxLength: 64 }),
      length: Type.Union(NAT64_PREFIX_LENGTHS.map((n) => Type.Literal(n)))
    }), { maxItems: 8 }),
    /** The AAAA records of ipv4only.arpa as received. */
    addresses: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 8 }),
    detail: Type.String({ maxLength: 300 })
  }),
  /** A TCP connection over IPv6 to the test server (or, failing a server AAAA, to any service) succeeded; null: nothing to try. */
  ipv6Connect: Nullable(Type.Boolean()),
  services: Type.Array(Ipv6OnlyService, { maxItems: 20 }),
  /** The line could run IPv6-only today: IPv6 works and NAT64/DNS64 is present, or every listed service answers over IPv6. */
  ready: Type.Boolean(),
  /** Which rule made it ready; null when not ready. */
  basis: Nullable(Type.Union([Type.Literal('nat64'), Type.Literal('services')])),
  reason: Type.String({ maxLength: 300 })
})
export type Ipv6OnlyResult = Static<typeof Ipv6OnlyResult>

export const ValidityFlag = Type.Union([
  Type.Literal('client_limited'),
  Type.Literal('cross_traffic'),
  Type.Literal('local_link_limited'),
  Type.Literal('unstable'),
  Type.Literal('degraded'),
  Type.Literal('byte_capped'),
  Type.Literal('server_limited'),
  Type.Literal('implausible'),
  Type.Literal('wifi'),
  Type.Literal('vpn'),
  /** 1.2: something between the agent and the test server terminates or rewrites the test's HTTP
   * (a Via/Forwarded header, or the server's byte counts disagree with the agent's): the figure is
   * agent-to-proxy, not the line. */
  Type.Literal('proxied'),
  /** 1.2: the server's and the agent's byte counts of the same test differ beyond the allowance. */
  Type.Literal('count_mismatch'),
  /** 1.2: the agent's TCP receive window limited the download (from the server's TCP_INFO). */
  Type.Literal('client_rwnd_limited')
])
export type ValidityFlag = Static<typeof ValidityFlag>

/**
 * Results measured over Wi-Fi or through a VPN: they measure the machine's radio link or tunnel,
 * not the agency's line, so they never count toward figures or compliance checks and are shown as
 * a series of their own (methodology.md §11, counting rule).
 */
export const SET_APART_FLAGS: readonly ValidityFlag[] = ['wifi', 'vpn']

/** Flags that keep a result out of target figures (methodology.md §11, counting rule). */
export const DISQUALIFYING_FLAGS: readonly ValidityFlag[] = [
  'client_limited', 'cross_traffic', 'local_link_limited', 'server_limited', 'implausible', 'degraded',
  'unstable', 'proxied', 'count_mismatch', 'client_rwnd_limited', ...SET_APART_FLAGS
]

/**
 * The validity flags a result is stored and judged with: its own, plus `wifi` when its test
 * traffic left by a Wi-Fi interface (`context.iface`), which no agent version flags itself.
 */
export function effectiveFlags (r: { flags: readonly ValidityFlag[], context?: { iface?: string } | null }): ValidityFlag[] {
  const flags = [...r.flags]
  if (r.context?.iface === 'wifi' && !flags.includes('wifi')) flags.push('wifi')
  return flags
}

export const ResultRecord = Type.Object({
  schemaVersion: Type.String({ pattern: '^1\\.[0-9]+\\.[0-9]+$', description: 'Semantic version of this record format; the collector accepts 1.x' }),
  id: Ulid,
  seq: Nullable(SeqNumber),
  kind: Type.Union([Type.Literal('speed'), Type.Literal('latency'), Type.Literal('ipv6'), Type.Literal('ipv6_only'), Type.Literal('skip')]),
  status: Type.Union([Type.Literal('ok'), Type.Literal('partial'), Type.Literal('failed'), Type.Literal('skipped')]),
  measuredAt: IsoDateTime,
  durationMs: Ms,
  agentVersion: Type.String({ maxLength: 40 }),
  clock: Type.Object({
    offsetMs: Nullable(ClockOffsetMs),
    sinceSyncS: Nullable(Seconds)
  }),
  server: Nullable(Type.Object({
    url: Type.String({ maxLength: 500 }),
    address: Nullable(Type.String({ maxLength: 64 })),
    family: Nullable(Type.Union([Type.Literal(4), Type.Literal(6)])),
    candidates: Type.Array(Type.Object({ url: Type.String({ maxLength: 500 }), medianMs: Nullable(Ms) }), { maxItems: 20 }),
    /** 1.1: servers tried before this one and why they were passed over (503 busy, unreachable). */
    skipped: Type.Optional(Type.Array(Type.Object({ url: Type.String({ maxLength: 500 }), reason: Type.String({ maxLength: 300 }), retryAfterS: Nullable(Type.Number({ minimum: 0, maximum: 86_400 })) }), { maxItems: 20 })),
    /** 1.1: the agent's address as the server saw it (GET /.well-known/tocdo). */
    clientAddress: Type.Optional(Nullable(Type.String({ maxLength: 64 })))
  })),
  context: Type.Object({
    os: Type.String({ maxLength: 100 }),
    arch: Type.String({ maxLength: 20 }),
    cpuModel: Type.String({ maxLength: 200 }),
    cores: Type.Integer({ minimum: 0, maximum: 4096 }),
    iface: Type.Union([Type.Literal('ethernet'), Type.Literal('wifi'), Type.Literal('cellular'), Type.Literal('loopback'), Type.Literal('unknown')]),
    linkMbps: Nullable(Mbps),
    connectionClass: Nullable(ConnectionClass),
    planDownMbps: Nullable(Mbps),
    planUpMbps: Nullable(Mbps),
    crossTraffic: Nullable(Type.Object({
      source: Type.String({ maxLength: 40 }),
      ifaceBytes: ByteCount,
      testBytes: ByteCount,
      /** 1.2: link, IP and TCP headers of the packets counted (ACKs included), bytes. */
      headerBytes: Type.Optional(ByteCount),
      /** 1.2: payload the agent sent twice (TCP retransmissions), bytes. */
      retransBytes: Type.Optional(ByteCount),
      /** 1.4: upload payload that had left the interface but was still queued on the path when the server counted it (the queue's growth over the window), bytes. */
      queuedBytes: Type.Optional(ByteCount),
      /** 1.2: interface bytes that were not the test's: iface − test − headers − retransmissions − queued (may be < 0). */
      extraBytes: Type.Optional(Type.Integer({ minimum: -1e15, maximum: 1e15 })),
      allowanceBytes: Type.Optional(ByteCount),
      /** 1.2: seconds of transfer the counters were compared over (both directions). */
      windowS: Type.Optional(Type.Number({ minimum: 0, maximum: 3600 }))
    })),
    /** 1.1: why crossTraffic is null (e.g. no interface counters on this platform). */
    crossTrafficUnavailable: Type.Optional(Type.String({ maxLength: 300 })),
    /** 1.2: why a direction has no `server` view (a server without the summary endpoint, or it failed). */
    serverViewUnavailable: Type.Optional(Type.String({ maxLength: 300 })),
    /** 1.1: OS name of the interface the test traffic left by (from the socket's local address). */
    ifaceName: Type.Optional(Nullable(Type.String({ maxLength: 40 }))),
    /** 1.1: whether the transfer used TLS (https server URL). */
    tls: Type.Optional(Type.Boolean()),
    /** 1.1: Node's happy-eyeballs default (net.getDefaultAutoSelectFamily()). */
    autoSelectFamily: Type.Optional(Nullable(Type.Boolean()))
  }),
  latency: Nullable(Type.Object({
    idle: Nullable(Type.Intersect([LatencyStats, Type.Object({ connect: Nullable(ColdConnect) })])),
    /** 1.1: the light latency task (kind 'latency'): per target and address family. */
    targets: Type.Optional(Type.Array(LatencyTarget, { maxItems: 20 }))
  })),
  download: Nullable(Direction),
  upload: Nullable(Direction),
  ipv6: Nullable(Ipv6Result),
  /** 1.3: IPv6-only readiness (kind 'ipv6_only'). */
  ipv6Only: Type.Optional(Nullable(Ipv6OnlyResult)),
  flags: Type.Array(ValidityFlag, { maxItems: 20, uniqueItems: true }),
  flagReasons: Type.Array(Type.Object({ flag: ValidityFlag, reason: Type.String({ maxLength: 500 }) }), { maxItems: 20 }),
  confidence: Nullable(Type.Union([Type.Literal('high'), Type.Literal('medium'), Type.Literal('low')])),
  error: Nullable(Type.Object({ code: Type.String({ maxLength: 60 }), detail: Type.String({ maxLength: 1000 }) }))
}, { additionalProperties: true, $id: 'ResultRecord' })
export type ResultRecord = Static<typeof ResultRecord>

/** What an agent posts to POST /api/v1/results. */
export const MAX_BATCH_ITEMS = 500
export const MAX_BATCH_BYTES = 512 * 1024

export const ResultBatch = Type.Object({
  results: Type.Array(Type.Unknown(), { minItems: 1, maxItems: MAX_BATCH_ITEMS })
}, { additionalProperties: false })
export type ResultBatch = Static<typeof ResultBatch>

export const ItemAck = Type.Object({
  id: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('accepted'), Type.Literal('duplicate'), Type.Literal('conflict'), Type.Literal('rejected')]),
  reason: Type.Optional(Type.String()),
  field: Type.Optional(Type.String())
})
export type ItemAck = Static<typeof ItemAck>

export const BatchReply = Type.Object({
  serverTime: IsoDateTime,
  items: Type.Array(ItemAck),
  accepted: Type.Integer(),
  duplicate: Type.Integer(),
  conflict: Type.Integer(),
  rejected: Type.Integer()
})
export type BatchReply = Static<typeof BatchReply>
