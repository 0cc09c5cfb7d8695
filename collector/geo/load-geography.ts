/**
 * Loads the administrative-unit and target seeds (seeds/README.md) into the geography store.
 * Both loaders are idempotent and safe to call at every collector start.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { GeographyRows, GeoStore, StoredTarget } from '../storage/stores.js'
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

type Expected = { [K in keyof GeographyRows]: Row[] }

/** The seed content as the rows the geography tables hold, each list in primary-key order. */
export function geographyRows (seedsDir: string): GeographyRows {
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

/**
 * Replaces both geography versions and the old -> new mapping with the seed content, in
 * one store transaction. When the stored rows already equal the seeds nothing is written,
 * which keeps a collector restart from churning the database.
 */
export async function loadGeography (geo: GeoStore, seedsDir: string): Promise<GeographyCounts> {
  const want = geographyRows(seedsDir)
  const { unchanged } = await geo.replaceGeography(want)
  return {
    provinces: want.provinces.length,
    districts: want.districts.length,
    communes: want.communes.length,
    merges: want.merges.length,
    provinceMerges: want.provinceMerges.length,
    unchanged
  }
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

/** The seeded targets and regulation rules (scope 'regulation') as stored, checked. */
export function targetRows (seedsDir: string): { targets: number, rules: number, rows: StoredTarget[] } {
  const file = join(seedsDir, 'targets.json')
  const seed = readSeed<TargetsSeed>(file)
  if (!Array.isArray(seed.targets) || !Array.isArray(seed.rules)) {
    throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `${file} must hold "targets" and "rules" arrays`)
  }
  const rows = [...seed.targets, ...seed.rules].map((entry): StoredTarget => {
    if (typeof entry.id !== 'string' || typeof entry.scope !== 'string') {
      throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `${file}: every entry needs a string id and scope`)
    }
    return { id: entry.id, scope: entry.scope, year: entry.year ?? null, body: entry }
  })
  return { targets: seed.targets.length, rules: seed.rules.length, rows }
}

/**
 * Upserts the seeded targets and regulation rules by id, in one store transaction. Rows
 * with other ids are left alone: a province may add its own targets to the same table.
 */
export async function loadTargets (geo: GeoStore, seedsDir: string): Promise<{ targets: number, rules: number }> {
  const { targets, rules, rows } = targetRows(seedsDir)
  await geo.upsertTargets(rows)
  return { targets, rules }
}

/**
 * The collector's start-up job (collector/app.ts): both seeds loaded, or found unchanged,
 * before any route serves. Idempotent, so it runs at every start.
 */
export async function loadSeeds (geo: GeoStore, seedsDir: string): Promise<{ geo: GeographyCounts, targets: { targets: number, rules: number } }> {
  return { geo: await loadGeography(geo, seedsDir), targets: await loadTargets(geo, seedsDir) }
}
