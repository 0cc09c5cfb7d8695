import type { Period } from '../../shared/period.js'
import type { RollupFilter, RollupReader, Stores } from '../storage/stores.js'
import type { MonthRow } from './month-row.js'

export type { MonthRow, RollupFilter }

/** The stores a report reads: the rollups (with the agencies and results beside them) and the geography and targets. */
export type ReportStores = Pick<Stores, 'rollups' | 'geo'>

/**
 * The month rollups of one province (either geography), one agency or everything, for a
 * period, through the store's RollupReader. Month by month where the period lists its months
 * (so a cache in front of the store, month-cache.ts, keeps closed months decoded);
 * agencies and `period=all` read the range.
 */
export async function readMonthRows (reader: RollupReader, filter: RollupFilter, period: Period, now = Date.now()): Promise<MonthRow[]> {
  if (period.months === null || filter.column === 'agency_id') return await reader.rowsInRange(filter, period.from, period.to)
  const { months } = await reader.rowsByMonth(filter, period.months, now)
  const out: MonthRow[] = []
  for (const month of period.months) for (const r of months.get(month) ?? []) out.push(r)
  return out
}
