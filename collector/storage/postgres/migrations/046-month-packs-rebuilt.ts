/**
 * 046, PostgreSQL only: every month pack is dropped once, so the month-pack job builds them
 * again. Packs built before the month rows were read in SQLite's order (month, then id:
 * postgres/rollups.ts) added their floats in another order, and a rolling report read from them
 * could differ from SQLite's, and from the same report read from rows, in the last digit.
 * Readers fall back to the month rows until the job has rebuilt a pack (month-pack.ts).
 */
export const sql = `
DELETE FROM rollup_month_pack;
`
