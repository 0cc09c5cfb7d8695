// The row a RollupReader returns; its one definition is the storage boundary's.
export type { MonthRow } from '../storage/stores.js'
