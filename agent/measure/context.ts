import { randomFillSync } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * What a probe needs from the outside world, passed in so tests can drive it (the ndt7-js
 * pattern: "the socket and callback are passed in to enable testing").
 */
export interface ProbeClock {
  /** Monotonic milliseconds (fractional); never goes back when the wall clock is set. */
  now: () => number
  /** Wall clock, for timestamps in the record only. */
  wall: () => Date
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>
}

export const systemClock: ProbeClock = {
  now: () => Number(process.hrtime.bigint()) / 1e6,
  wall: () => new Date(),
  sleep: async (ms, signal) => { await sleep(ms, undefined, signal === undefined ? undefined : { signal }) }
}

/** Progress events for a live display; never required for a measurement. */
export type ProgressEvent =
  | { phase: 'select', servers: number }
  | { phase: 'latency', done: number, total: number, server: string }
  | { phase: 'download' | 'upload', elapsedS: number, mbps: number, streams: number }
  | { phase: 'ipv6' }
  | { phase: 'skip', server: string, reason: string }
  | { phase: 'done' }

let uploadPayload: Buffer | undefined
/** Incompressible upload bytes, generated once per process. */
export function getUploadPayload (): Buffer {
  uploadPayload ??= randomFillSync(Buffer.allocUnsafe(8 * 1024 * 1024))
  return uploadPayload
}
