/**
 * 042: the high-tech zone an agency sits in (its name, e.g. "Khu công nghệ cao Hòa Lạc"), or
 * NULL when it is in none. Targets set for high-tech zones (QĐ 36/QĐ-TTg, Kế hoạch 333/KH-UBND)
 * count only the lines of agencies in a zone (docs/reports.md §3, "Scope").
 */
export const sql = `
ALTER TABLE agency ADD COLUMN high_tech_zone TEXT;
`
