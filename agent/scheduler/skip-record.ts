import type { ResultRecord } from '../../shared/schemas/result.js'
import { emptyRecord } from '../measure/record.js'

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
  return {
    ...emptyRecord('skip', { measuredAt, clockInfo: clock, context }),
    status: 'skipped',
    durationMs: Math.max(0, Math.round(durationMs)),
    error: { code, detail: detail.slice(0, 1000) }
  }
}
