import { newResultId } from '../../shared/ids.js'
import { RESULT_SCHEMA_VERSION, type ResultRecord } from '../../shared/schemas/result.js'

/**
 * Realistic small records for the ingest bench and the fleet tests: mostly latency probes
 * (96 a day per agent, a few hundred bytes), some speed-test headlines without their
 * sample series. Every record validates against ResultRecord.
 */
export function latencyRecord (overrides: Partial<ResultRecord> = {}, measuredAt = new Date()): ResultRecord {
  const base = 8 + Math.random() * 20
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    id: newResultId(),
    seq: null,
    kind: 'latency',
    status: 'ok',
    measuredAt: measuredAt.toISOString(),
    durationMs: 2100,
    agentVersion: '0.1.0',
    clock: { offsetMs: -120, sinceSyncS: 300 },
    server: { url: 'https://speed1.example.vn', address: '203.0.113.10', family: 4, candidates: [] },
    context: {
      os: 'linux 6.8',
      arch: 'x64',
      cpuModel: 'Intel(R) Core(TM) i5-8500',
      cores: 6,
      iface: 'ethernet',
      linkMbps: 1000,
      connectionClass: 'fixed',
      planDownMbps: 300,
      planUpMbps: 300,
      crossTraffic: null
    },
    latency: {
      idle: {
        n: 10,
        minMs: base,
        medianMs: base + 1.2,
        meanMs: base + 1.5,
        p90Ms: base + 3,
        iqmMs: base + 1.1,
        jitterMs: 0.8,
        jitterRfc3550Ms: 0.5,
        samplesMs: [],
        connect: null
      }
    },
    download: null,
    upload: null,
    ipv6: null,
    flags: [],
    flagReasons: [],
    confidence: null,
    error: null,
    ...overrides
  }
}

export function latencyBatch (n: number, seq0 = 0): ResultRecord[] {
  return Array.from({ length: n }, (_, i) => latencyRecord({ seq: seq0 + i }))
}
