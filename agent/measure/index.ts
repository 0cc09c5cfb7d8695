import type { ResultRecord } from '../../shared/schemas/result.js'
import type { ProbeClock } from './context.js'
import { ipv6Checks, type Ipv6Options } from './ipv6.js'
import { emptyRecord } from './record.js'

/** The measurement engine's entry points, for the CLI and the scheduler. */
export { runSpeedTest, initialStreams, type SpeedTestOptions } from './speed-test.js'
export { runLatencyCheck, type LatencyCheckOptions } from './latency-check.js'
export { rankServers, busyBackoffMs, type RankedServer } from './select.js'
export { readCalibration, writeCalibration, type Calibration } from './calibration.js'
export { systemClock, type ProbeClock, type ProgressEvent } from './context.js'

/**
 * The IPv6 suite as a record of its own (kind 'ipv6'), for the hourly light task. `state`
 * classifies the agent: works / broken / capable / none; every sub-test is in `checks`.
 */
export async function runIpv6Check (opts: Ipv6Options & { clock: ProbeClock, seq?: number | null, clockInfo?: ResultRecord['clock'], context?: Partial<ResultRecord['context']> }): Promise<ResultRecord> {
  const record = emptyRecord('ipv6', { measuredAt: opts.clock.wall(), seq: opts.seq ?? null, ...(opts.clockInfo === undefined ? {} : { clockInfo: opts.clockInfo }), ...(opts.context === undefined ? {} : { context: opts.context }) })
  const t0 = opts.clock.now()
  const origin = new URL(opts.server).origin
  record.server = { url: origin, address: null, family: null, candidates: [] }
  try {
    record.ipv6 = await ipv6Checks(opts)
  } catch (err) {
    record.status = 'failed'
    record.error = { code: 'TOCDO_ERR_MEASUREMENT_FAILED', detail: `ipv6 checks: ${err instanceof Error ? err.message : String(err)}`.slice(0, 1000) }
  }
  record.durationMs = Math.round(opts.clock.now() - t0)
  return record
}
