import { monotonicFactory } from 'ulidx'

/**
 * Result ids are ULIDs made by the agent when the result is created: time-ordered (so the
 * outbox and the collector keep insertion order) and unique per agent. The monotonic factory
 * keeps ids strictly increasing within one millisecond.
 */
export const newResultId: () => string = monotonicFactory()

/**
 * FNV-1a 32-bit hash, used for the per-agent schedule phase: stable across platforms and
 * Node versions, unlike anything seeded from Math.random (SIMET shipped a bug where every
 * agent got the same seed).
 */
export function fnv1a32 (text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
