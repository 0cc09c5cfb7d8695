/**
 * 047, PostgreSQL only: month packs move to layout 2 (collector/storage/month-pack.ts: varint
 * differences, about a quarter of layout 1's bytes). Every pack is dropped once so the month-pack
 * job rebuilds it in the new layout; readers fall back to the month rows until then. The column
 * is stored EXTERNAL: layout 2 barely compresses, and pglz's attempt on every write and its
 * decompression on every read only cost time.
 */
export const sql = `
DELETE FROM rollup_month_pack;
ALTER TABLE rollup_month_pack ALTER COLUMN pack SET STORAGE EXTERNAL;
`
