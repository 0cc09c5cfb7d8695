import os from 'node:os'
import { newResultId } from '../../shared/ids.js'
import { RESULT_SCHEMA_VERSION, type ResultRecord } from '../../shared/schemas/result.js'
import { TOCDO_VERSION } from '../../shared/version.js'

/**
 * A `skip` result: a slot that was due but deliberately not measured (busy line, data
 * budget). Stored and sent like any result, so the collector's coverage figures can explain
 * the gap instead of seeing silence (fleet-protocol.md §15).
 */
export function skipRecord ({ code, detail, measuredAt, durationMs, clock, context }: {
  code: string
  detail: string
  measuredAt: Date
  durationMs: number
  clock: ResultRecord['clock']
  context: Partial<ResultRecord['context']>
}): ResultRecord {
  const cpus = os.cpus()
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    id: newResultId(),
    seq: null,
    kind: 'skip',
    status: 'skipped',
    measuredAt: measuredAt.toISOString(),
    durationMs: Math.max(0, Math.round(durationMs)),
    agentVersion: TOCDO_VERSION,
    clock,
    server: null,
    context: {
      os: `${os.platform()} ${os.release()}`.slice(0, 100),
      arch: os.arch(),
      cpuModel: (cpus[0]?.model.trim() ?? 'unknown').slice(0, 200),
      cores: cpus.length,
      iface: 'unknown',
      linkMbps: null,
      connectionClass: null,
      planDownMbps: null,
      planUpMbps: null,
      crossTraffic: null,
      ...context
    },
    latency: null,
    download: null,
    upload: null,
    ipv6: null,
    flags: [],
    flagReasons: [],
    confidence: null,
    error: { code, detail: detail.slice(0, 1000) }
  }
}
