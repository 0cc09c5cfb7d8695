import { median } from '../../shared/stats.js'

/**
 * Clock offset against the collector (fleet-protocol.md §12): from each sync,
 * offset = serverTime − (tSend + rtt/2), accepted only when rtt ≤ 1 s (RIPE Atlas writes its
 * time file only then); the estimate is the median of the last 5 accepted samples. The agent
 * never sets the OS clock; it reports the offset so the collector can correct timestamps.
 */
export const MAX_RTT_MS = 1000
const KEEP = 5
const STEP_MS = 5 * 60_000

export class ClockEstimator {
  private samples: number[] = []
  private lastAcceptedMono: number | null = null

  /** @param mono monotonic milliseconds (never affected by wall-clock steps) */
  constructor (private readonly mono: () => number) {}

  /**
   * @param sendWallMs agent wall clock when the request left
   * @param rttMs round trip measured on the monotonic clock
   * @param serverTimeMs the collector's serverTime
   */
  add (sendWallMs: number, rttMs: number, serverTimeMs: number): boolean {
    if (!Number.isFinite(serverTimeMs) || rttMs < 0 || rttMs > MAX_RTT_MS) return false
    const sample = serverTimeMs - (sendWallMs + rttMs / 2)
    // A jump this large is a wall-clock step, not noise: the older samples describe another clock.
    if (this.samples.length > 0 && Math.abs(sample - (median(this.samples) as number)) > STEP_MS) this.samples = []
    this.samples.push(sample)
    if (this.samples.length > KEEP) this.samples.shift()
    this.lastAcceptedMono = this.mono()
    return true
  }

  /** After a wall-clock step the old samples describe another clock: start again. */
  reset (): void { this.samples = []; this.lastAcceptedMono = null }

  get (): { offsetMs: number | null, sinceSyncS: number | null } {
    if (this.samples.length === 0 || this.lastAcceptedMono === null) return { offsetMs: null, sinceSyncS: null }
    return {
      offsetMs: Math.round(median(this.samples) as number),
      sinceSyncS: Math.max(0, Math.round((this.mono() - this.lastAcceptedMono) / 1000))
    }
  }
}
