/**
 * Loads the administrative-unit and target seeds (seeds/README.md) into the tables of
 * migration 001. Both loaders are idempotent and safe to call at every collector start.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Db } from '../storage/db.js'
import { GEO_VERSIONS } from '../storage/area-levels.js'
import { TocdoError } from '../../shared/errors.js'
import { foldDiacritics, officialSpelling } from './names.js'

export interface GeographyCounts {
  /** Both versions together: 63 + 34 with the shipped seeds. */
  provinces: number
  districts: number
  /** Both versions together: 10,035 + 3,321 with the shipped seeds. */
  communes: number
  /** Old-commune -> new-commune links. */
  merges: number
  provinceMerges: number
  /** True when the database already held exactly this content and nothing was written. */
  unchanged: boolean
}

type Row = Array<string | null>
type SeedRow = [string, string, string, number | string, string?]

interface UnitsSeed {
  version: string
  types: string[]
  provinces: Array<[string, string, number | string, string?]>
  districts?: SeedRow[]
  communes: SeedRow[]
}

interface MergesSeed {
  provinces: Array<[string, string[]]>
  communes: Array<[string, string[], string[]]>
}

function readSeed<T> (file: string): T {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (cause) {
    throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `cannot read seed file ${file}; run \`npx tsx scripts/build-seeds.ts\` or check seedsDir`, { cause })
  }
  return JSON.parse(text) as T
}

function fullName (types: string[], typeOrFull: number | string, name: string, file: string): string {
  if (typeof typeOrFull === 'string') return typeOrFull
  const type = types[typeOrFull]
  if (type === undefined) throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `${file}: type index ${typeOrFull} out of range for ${name}`)
  return `${type} ${name}`
}

const byKey = (a: Row, b: Row): number => {
  const ka = `${a[0] ?? ''}\u0000${a[1] ?? ''}`
  const kb = `${b[0] ?? ''}\u0000${b[1] ?? ''}`
  return ka < kb ? -1 : ka > kb ? 1 : 0
}

interface Expected {
  provinces: Row[] // version, code, name, full_name, name_en
  districts: Row[] // version, code, province_code, name, full_name, name_en
  communes: Row[] // version, code, province_code, district_code, name, full_name, name_en
  merges: Row[] // new_code, old_code, type
  provinceMerges: Row[] // new_code, old_code
}

function expectedRows (seedsDir: string): Expected {
  const dir = join(seedsDir, 'admin-units')
  const out: Expected = { provinces: [], districts: [], communes: [], merges: [], provinceMerges: [] }
  for (const version of GEO_VERSIONS) {
    const file = join(dir, `units-${version}.json`)
    const seed = readSeed<UnitsSeed>(file)
    if (seed.version !== version) throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `${file} holds version ${seed.version}, expected ${version}`)
    for (const [code, name, t, en] of seed.provinces) {
      out.provinces.push([version, code, officialSpelling(name), officialSpelling(fullName(seed.types, t, name, file)), en ?? foldDiacritics(name)])
    }
    const districtProvince = new Map<string, string>()
    for (const [code, province, name, t, en] of seed.districts ?? []) {
      districtProvince.set(code, province)
      out.districts.push([version, code, province, officialSpelling(name), officialSpelling(fullName(seed.types, t, name, file)), en ?? foldDiacritics(name)])
    }
    for (const [code, parent, name, t, en] of seed.communes) {
      // 2025-03 communes name their district; 2025-07 communes their province.
      let province = parent
      let district: string | null = null
      if (seed.districts !== undefined) {
        const p = districtProvince.get(parent)
        if (p === undefined) throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `${file}: commune ${code} names unknown district ${parent}`)
        province = p
        district = parent
      }
      out.communes.push([version, code, province, district, officialSpelling(name), officialSpelling(fullName(seed.types, t, name, file)), en ?? foldDiacritics(name)])
    }
  }
  const merges = readSeed<MergesSeed>(join(dir, 'commune-merges-2025.json'))
  for (const [newCode, full, partial] of merges.communes) {
    for (const old of full) out.merges.push([newCode, old, 'full'])
    for (const old of partial) out.merges.push([newCode, old, 'partial'])
  }
  for (const [newCode, olds] of merges.provinces) {
    for (const old of olds) out.provinceMerges.push([newCode, old])
  }
  // Same order as the primary keys, so the stored rows can be compared one to one.
  out.provinces.sort(byKey)
  out.districts.sort(byKey)
  out.communes.sort(byKey)
  out.merges.sort(byKey)
  out.provinceMerges.sort(byKey)
  return out
}

function sameRows (a: unknown[][], b: Row[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as unknown[]
    const y = b[i] as Row
    for (let j = 0; j < y.length; j++) if (x[j] !== y[j]) return false
  }
  return true
}

/**
 * Replaces both geography versions and the old -> new mapping with the seed content, in
 * one transaction. When the stored rows already equal the seeds nothing is written, which
 * keeps a collector restart from churning the WAL; comparing rows (about 25,000, a few
 * tens of ms) avoids a bookkeeping table and still notices a regenerated seed with the
 * same counts (a renamed commune).
 */
export function loadGeography (db: Db, seedsDir: string): GeographyCounts {
  const want = expectedRows(seedsDir)
  const versions = `version IN ('${GEO_VERSIONS.join("','")}')`
  const read = (sql: string): unknown[][] => db.prepare(sql).raw(true).all() as unknown[][]

  return db.transaction((): GeographyCounts => {
    const unchanged =
      sameRows(read(`SELECT version, code, name, full_name, name_en FROM geo_province WHERE ${versions} ORDER BY version, code`), want.provinces) &&
      sameRows(read(`SELECT version, code, province_code, name, full_name, name_en FROM geo_district WHERE ${versions} ORDER BY version, code`), want.districts) &&
      sameRows(read(`SELECT version, code, province_code, district_code, name, full_name, name_en FROM geo_commune WHERE ${versions} ORDER BY version, code`), want.communes) &&
      sameRows(read('SELECT new_code, old_code, type FROM geo_commune_merge ORDER BY new_code, old_code'), want.merges) &&
      sameRows(read('SELECT new_code, old_code FROM geo_province_merge ORDER BY new_code, old_code'), want.provinceMerges)

    if (!unchanged) {
      for (const table of ['geo_province', 'geo_district', 'geo_commune']) db.prepare(`DELETE FROM ${table} WHERE ${versions}`).run()
      db.prepare('DELETE FROM geo_commune_merge').run()
      db.prepare('DELETE FROM geo_province_merge').run()
      const insert = (sql: string, rows: Row[]): void => {
        const stmt = db.prepare(sql)
        for (const r of rows) stmt.run(r)
      }
      insert('INSERT INTO geo_province (version, code, name, full_name, name_en) VALUES (?, ?, ?, ?, ?)', want.provinces)
      insert('INSERT INTO geo_district (version, code, province_code, name, full_name, name_en) VALUES (?, ?, ?, ?, ?, ?)', want.districts)
      insert('INSERT INTO geo_commune (version, code, province_code, district_code, name, full_name, name_en) VALUES (?, ?, ?, ?, ?, ?, ?)', want.communes)
      insert('INSERT INTO geo_commune_merge (new_code, old_code, type) VALUES (?, ?, ?)', want.merges)
      insert('INSERT INTO geo_province_merge (new_code, old_code) VALUES (?, ?)', want.provinceMerges)
    }
    return {
      provinces: want.provinces.length,
      districts: want.districts.length,
      communes: want.communes.length,
      merges: want.merges.length,
      provinceMerges: want.provinceMerges.length,
      unchanged
    }
  }).immediate()
}

export interface TargetEntry {
  id: string
  scope: string
  year: number | null
  [key: string]: unknown
}

interface TargetsSeed {
  targets: TargetEntry[]
  rules: TargetEntry[]
}

/**
 * Upserts the seeded targets and regulation rules (scope 'regulation') by id. Rows with
 * other ids are left alone: a province may add its own targets to the same table.
 */
export function loadTargets (db: Db, seedsDir: string): { targets: number, rules: number } {
  const file = join(seedsDir, 'targets.json')
  const seed = readSeed<TargetsSeed>(file)
  if (!Array.isArray(seed.targets) || !Array.isArray(seed.rules)) {
    throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `${file} must hold "targets" and "rules" arrays`)
  }
  const upsert = db.prepare(`INSERT INTO target (id, scope, year, body) VALUES (?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET scope = excluded.scope, year = excluded.year, body = excluded.body
    WHERE target.scope IS NOT excluded.scope OR target.year IS NOT excluded.year OR target.body IS NOT excluded.body`)
  db.transaction(() => {
    for (const entry of [...seed.targets, ...seed.rules]) {
      if (typeof entry.id !== 'string' || typeof entry.scope !== 'string') {
        throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `${file}: every entry needs a string id and scope`)
      }
      upsert.run(entry.id, entry.scope, entry.year ?? null, JSON.stringify(entry))
    }
  }).immediate()
  return { targets: seed.targets.length, rules: seed.rules.length }
}
