import type { Static } from '@sinclair/typebox'
import type { ConnectionClass as ConnectionClassSchema } from '../../shared/schemas/common.js'

export type ConnectionClass = Static<typeof ConnectionClassSchema>

/**
 * Monthly data budget (methodology.md §14; issue 10, item 5). It applies only where data is
 * metered: a mobile line (4g/5g) or a cap the agency set. An unmetered fixed line keeps every
 * slot of the schedule, the evening ones included, because the reports' time bands need them
 * and a 30 GB default silenced most of a month's tests on fast lines. Where it applies, a full
 * test is run while the month's projection fits; when it would not, only the first test in
 * each office window runs; when even this test would overrun the budget, the test is skipped
 * and counted, so coverage shows the gap.
 */
export const METERED_DEFAULT_MB = 10_000

/** The month's budget in bytes, or null where data is not metered (no budget: every slot runs). */
export function monthlyBudgetBytes ({ connectionClass, capMB }: { connectionClass: ConnectionClass | null, capMB: number | null }): number | null {
  if (capMB !== null) return capMB * 1e6
  return connectionClass === '4g' || connectionClass === '5g' ? METERED_DEFAULT_MB * 1e6 : null
}

export type BudgetDecision = { run: true, mode: 'full' | 'office-only' } | { run: false, reason: string }

export function budgetDecision ({ usedBytes, estimateBytes, budgetBytes, slotsLeftFull, slotsLeftOffice, officeSlot }: {
  usedBytes: number
  /** Expected bytes of one full test (both directions). */
  estimateBytes: number
  /** null: not metered, every slot runs. */
  budgetBytes: number | null
  /** Full-test slots left this month, this one included. */
  slotsLeftFull: number
  slotsLeftOffice: number
  officeSlot: boolean
}): BudgetDecision {
  if (budgetBytes === null) return { run: true, mode: 'full' }
  if (usedBytes + estimateBytes > budgetBytes) {
    return { run: false, reason: `monthly budget: ${fmt(usedBytes)} used of ${fmt(budgetBytes)}, a test needs about ${fmt(estimateBytes)}` }
  }
  if (usedBytes + estimateBytes * slotsLeftFull <= budgetBytes) return { run: true, mode: 'full' }
  if (officeSlot) return { run: true, mode: 'office-only' }
  return { run: false, reason: `monthly budget: ${fmt(usedBytes)} used of ${fmt(budgetBytes)}; ${slotsLeftFull} more tests would not fit (${slotsLeftOffice} office-hours tests kept)` }
}

/**
 * Seconds of line rate a test typically moves per direction: a warm-up of 1–2 s and the 4 s
 * steady window after which a stable test stops (ramp.ts EARLY_STOP), plus a margin.
 */
export const TYPICAL_SECONDS_PER_DIRECTION = 7

/**
 * Bytes one full test is expected to cost: the month's mean so far; else the line's last
 * measured rates over a typical test; only with neither, the plan speeds over the time cap
 * (an upper bound: the first test then measures the line).
 */
export function estimateTestBytes ({ usage, measured = null, planDownMbps, planUpMbps, maxSecondsPerDirection }: {
  usage: { bytes: number, tests: number }
  measured?: { downMbps: number, upMbps: number } | null
  planDownMbps: number | null
  planUpMbps: number | null
  maxSecondsPerDirection: number
}): number {
  if (usage.tests > 0) return usage.bytes / usage.tests
  if (measured !== null) return (measured.downMbps + measured.upMbps) * 1e6 / 8 * Math.min(TYPICAL_SECONDS_PER_DIRECTION, maxSecondsPerDirection)
  const down = planDownMbps ?? 100
  const up = planUpMbps ?? down
  return (down + up) * 1e6 / 8 * maxSecondsPerDirection
}

const fmt = (b: number): string => `${(b / 1e6).toFixed(0)} MB`
