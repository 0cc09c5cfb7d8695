import os from 'node:os'
import { getDefaultAutoSelectFamily } from 'node:net'
import { newResultId } from '../../shared/ids.js'
import { RESULT_SCHEMA_VERSION, type ResultRecord } from '../../shared/schemas/result.js'
import { TOCDO_VERSION } from '../../shared/version.js'

/** Host context every record carries; the iface and link fields are filled in by the probe that learns them. */
export function defaultContext (): ResultRecord['context'] {
  const cpus = os.cpus()
  return {
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
    autoSelectFamily: getDefaultAutoSelectFamily()
  }
}

/** A record with every field present and empty; probes overwrite what they measured. */
export function emptyRecord (kind: ResultRecord['kind'], { measuredAt, seq = null, clockInfo, context }: {
  measuredAt: Date
  seq?: number | null
  clockInfo?: ResultRecord['clock']
  context?: Partial<ResultRecord['context']>
}): ResultRecord {
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    id: newResultId(),
    seq,
    kind,
    status: 'ok',
    measuredAt: measuredAt.toISOString(),
    durationMs: 0,
    agentVersion: TOCDO_VERSION,
    clock: clockInfo ?? { offsetMs: null, sinceSyncS: null },
    server: null,
    context: { ...defaultContext(), ...context },
    latency: null,
    download: null,
    upload: null,
    ipv6: null,
    flags: [],
    flagReasons: [],
    confidence: null,
    error: null
  }
}

/** Error code of a failed connection or lookup, looking through `cause` wrapping. */
export function errorCode (err: unknown): string | null {
  let e: unknown = err
  for (let i = 0; i < 4 && e !== null && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') return code
    e = (e as { cause?: unknown }).cause
  }
  return null
}

export const messageOf = (err: unknown): string => err instanceof Error ? err.message : String(err)
