import type { Static } from '@sinclair/typebox'
import type { ConnectionClass as ConnectionClassSchema } from '../../shared/schemas/common.js'

export type ConnectionClass = Static<typeof ConnectionClassSchema>

/**
 * Monthly data budget (methodology.md §14). A full test is run while the month's projection
 * fits; when it would not, only the first test in each office window runs; when even this test
 * would overrun the budget, the test is skipped and counted, so coverage shows the gap.
 */
export type BudgetDecision = { run: true, mode: 'full' | 'office-only' } | { run: false, reason: string }

export function budgetDecision ({ usedBytes, estimateBytes, budgetBytes, slotsLeftFull, slotsLeftOffice, officeSlot }: {
  usedBytes: number
  /** Expected bytes of one full test (both directions). */
  estimateBytes: number
  budgetBytes: number
  /** Full-test slots left this month, this one included. */
  slotsLeftFull: number
  slotsLeftOffice: number
  officeSlot: boolean
}): BudgetDecision {
  if (usedBytes + estimateBytes > budgetBytes) {
    return { run: false, reason: `monthly budget: ${fmt(usedBytes)} used of ${fmt(budgetBytes)}, a test needs about ${fmt(estimateBytes)}` }
  }
  if (usedBytes + estimateBytes * slotsLeftFull <= budgetBytes) return { run: true, mode: 'full' }
  if (officeSlot) return { run: true, mode: 'office-only' }
  return { run: false, reason: `monthly budget: ${fmt(usedBytes)} used of ${fmt(budgetBytes)}; ${slotsLeftFull} more tests would not fit (${slotsLeftOffice} office-hours tests kept)` }
}

/** Bytes one full test is expected to cost: the month's mean so far, else the plan speeds. */
export function estimateTestBytes ({ usage, planDownMbps, planUpMbps, maxSecondsPerDirection }: {
  usage: { bytes: number, tests: number }
  planDownMbps: number | null
  planUpMbps: number | null
  maxSecondsPerDirection: number
}): number {
  if (usage.tests > 0) return usage.bytes / usage.tests
  const down = planDownMbps ?? 100
  const up = planUpMbps ?? down
  return (down + up) * 1e6 / 8 * maxSecondsPerDirection
}

const fmt = (b: number): string => `${(b / 1e6).toFixed(0)} MB`
