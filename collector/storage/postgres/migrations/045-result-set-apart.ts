/**
 * 045, PostgreSQL only: partial indexes over the speed results set apart (Wi-Fi, VPN:
 * set-apart-store.ts), by province in either geography and time, for the official report's
 * count of a province's set-apart results (postgres/rollups.ts `setApartInProvince`). SQLite
 * answers that count through its (province, district or commune, time) indexes of 001, which
 * the PostgreSQL result table does not carry; without these, PostgreSQL reads every row of the
 * period's partitions. The predicate is the query's own, so the planner matches it; the rows it
 * holds are few, so ingest pays little for it.
 */
export const sql = `
CREATE INDEX result_set_apart_legacy ON result (legacy_province_code, measured_at_corr)
  WHERE kind = 'speed' AND (strpos(flags, 'wifi') > 0 OR strpos(flags, 'vpn') > 0);
CREATE INDEX result_set_apart_current ON result (province_code, measured_at_corr)
  WHERE kind = 'speed' AND (strpos(flags, 'wifi') > 0 OR strpos(flags, 'vpn') > 0);
`
