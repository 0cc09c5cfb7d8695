/**
 * Placing an agency in both geographies (domain.md §7.4), from the geography loaded by
 * loadGeography: one read from the store, then pure rules.
 */
import type { GeoStore, PlacementRows } from '../storage/stores.js'
import { TocdoError } from '../../shared/errors.js'
import type { GeoVersion } from '../storage/area-levels.js'

export type GeoScheme = GeoVersion

export interface PlacementInput {
  /** The commune the installer picked, in `scheme`. */
  communeCode: string
  scheme: GeoScheme
  /** With scheme '2025-07': the old commune the installer picked from the merge list, if any. */
  legacyCommuneCode?: string | null
  /** With scheme '2025-03': the new commune, needed when the old commune was split. */
  newCommuneCode?: string | null
}

export interface Placement {
  /** 2025-07 commune; null only when `ambiguous.level` is 'commune'. */
  communeCode: string | null
  /** 2025-07 province; null only when an ambiguous old commune was split across provinces. */
  provinceCode: string | null
  legacyCommuneCode: string | null
  legacyDistrictCode: string | null
  legacyProvinceCode: string | null
  /** How the other scheme was derived, or why it could not be. */
  note: string
  ambiguous: null | {
    /** 'commune': the new commune is unknown; 'district': only the legacy district is. */
    level: 'commune' | 'district'
    candidates: string[]
  }
}

interface CommuneRow { code: string, province_code: string, district_code: string | null }
interface MergeRow { code: string, type: 'full' | 'partial' }

/** The lookups placement makes, over rows read from the geography store in one read. */
export interface PlacementIndex {
  commune: (version: GeoScheme, code: string) => CommuneRow | undefined
  /** A 2025-03 district. */
  district: (code: string) => { code: string, province_code: string } | undefined
  /** The old communes (or whole districts) merged into a 2025-07 commune, by old code. */
  oldOfNew: (code: string) => MergeRow[]
  /** The 2025-07 communes an old commune went into, by new code. */
  newOfOld: (code: string) => MergeRow[]
}

const byCode = (a: MergeRow, b: MergeRow): number => a.code < b.code ? -1 : a.code > b.code ? 1 : 0

/** Indexes rows from `GeoStore.placementRows` for `placeIn`. */
export function placementIndex (rows: PlacementRows): PlacementIndex {
  const communes = new Map(rows.communes.map((c) => [`${c.version}|${c.code}`, { code: c.code, province_code: c.provinceCode, district_code: c.districtCode }]))
  const districts = new Map(rows.districts.map((d) => [d.code, { code: d.code, province_code: d.provinceCode }]))
  const olds = new Map<string, MergeRow[]>()
  const news = new Map<string, MergeRow[]>()
  for (const m of rows.merges) {
    const o = olds.get(m.newCode) ?? []
    o.push({ code: m.oldCode, type: m.type })
    olds.set(m.newCode, o)
    const n = news.get(m.oldCode) ?? []
    n.push({ code: m.newCode, type: m.type })
    news.set(m.oldCode, n)
  }
  for (const list of [...olds.values(), ...news.values()]) list.sort(byCode)
  return {
    commune: (version, code) => communes.get(`${version}|${code}`),
    district: (code) => districts.get(code),
    oldOfNew: (code) => olds.get(code) ?? [],
    newOfOld: (code) => news.get(code) ?? []
  }
}

function unknown (field: string, code: string, scheme: GeoScheme, fix: string): TocdoError {
  return new TocdoError('TOCDO_ERR_UNKNOWN_AREA',
    `${field} "${code}" is not a ${scheme} commune code; ${fix} (if no code is known at all, the geography seeds may not be loaded)`,
    { details: { field, code, scheme } })
}

function mismatch (field: string, message: string, allowed: string[]): TocdoError {
  return new TocdoError('TOCDO_ERR_VALIDATION', message, { details: { field, allowed } })
}

const single = <T>(values: Iterable<T>): T | null => {
  const set = new Set(values)
  return set.size === 1 ? [...set][0] as T : null
}

/**
 * Rules, in order:
 *
 * From a 2025-07 commune (what the installer is asked for):
 * 1. legacy district = the district of the old commune the caller picked, which must be
 *    one of the old communes merged into the new one;
 * 2. otherwise the single old district all its old communes belonged to (an island
 *    district merged whole, listed by district code in the mapping, counts as that district);
 * 3. otherwise `ambiguous` at district level with the candidate districts, for the
 *    provincial admin to resolve. The legacy province is still given when all candidates
 *    share one.
 * The legacy commune is known only when picked, or when the new commune drew from a single
 * old commune.
 *
 * From a 2025-03 commune (legacy records, older installers):
 * 1. the new commune is the one the old commune merged into;
 * 2. an old commune split across several new ones (a `partial` merge) has no single
 *    successor, and the agency's own assignment wins over any guess: the caller must pass
 *    `newCommuneCode`, one of the successors; without it the result is `ambiguous` at
 *    commune level with the successors as candidates and no commune code.
 *
 * Unknown codes throw TOCDO_ERR_UNKNOWN_AREA naming the field; a known code that does not
 * belong with the other throws TOCDO_ERR_VALIDATION naming the field.
 */
export async function placeAgent (geo: Pick<GeoStore, 'placementRows'>, input: PlacementInput): Promise<Placement> {
  checkScheme(input)
  return placeIn(placementIndex(await geo.placementRows(placementCodes(input))), input)
}

/** The codes an input names, for `GeoStore.placementRows`. */
export function placementCodes (input: Pick<PlacementInput, 'communeCode' | 'legacyCommuneCode' | 'newCommuneCode'>): string[] {
  return [input.communeCode, input.legacyCommuneCode, input.newCommuneCode].filter((c): c is string => typeof c === 'string')
}

function checkScheme (input: PlacementInput): void {
  if (input.scheme !== '2025-07' && input.scheme !== '2025-03') {
    throw new TocdoError('TOCDO_ERR_VALIDATION', `scheme must be '2025-03' or '2025-07', got ${JSON.stringify(input.scheme)}`, { details: { field: 'scheme' } })
  }
}

/** `placeAgent` over an index already read (many placements over `placementRows(null)`). */
export function placeIn (s: PlacementIndex, input: PlacementInput): Placement {
  checkScheme(input)
  return input.scheme === '2025-07' ? fromNew(s, input) : fromOld(s, input)
}

function fromNew (s: PlacementIndex, input: PlacementInput): Placement {
  const commune = s.commune('2025-07', input.communeCode)
  if (commune === undefined) {
    throw unknown('communeCode', input.communeCode, '2025-07', 'pick the commune from the 2025-07 list (QĐ 19/2025), or pass scheme \'2025-03\' for a pre-reform code')
  }
  if (input.newCommuneCode != null && input.newCommuneCode !== input.communeCode) {
    throw mismatch('newCommuneCode', `newCommuneCode "${input.newCommuneCode}" differs from communeCode "${input.communeCode}" given in scheme 2025-07; drop it`, [input.communeCode])
  }
  const olds = s.oldOfNew(commune.code)
  const base = { communeCode: commune.code, provinceCode: commune.province_code }

  if (input.legacyCommuneCode != null) {
    const picked = s.commune('2025-03', input.legacyCommuneCode)
    if (picked === undefined) {
      throw unknown('legacyCommuneCode', input.legacyCommuneCode, '2025-03', 'pick the old commune from the list of communes merged into the new one, or leave it empty')
    }
    if (!olds.some(o => o.code === picked.code)) {
      throw mismatch('legacyCommuneCode',
        `legacyCommuneCode "${picked.code}" was not merged into commune ${commune.code}; pick one of ${olds.map(o => o.code).join(', ')}, or leave it empty`,
        olds.map(o => o.code))
    }
    return {
      ...base,
      legacyCommuneCode: picked.code,
      legacyDistrictCode: picked.district_code,
      legacyProvinceCode: picked.province_code,
      note: `legacy district from the old commune ${picked.code} picked at enrolment`,
      ambiguous: null
    }
  }

  // Old ids that are neither communes nor districts of 2025-03 (12 renumbered communes)
  // cannot say where they lay; the rest of the new commune's sources still can.
  const resolved: Array<{ commune: string | null, district: string, province: string }> = []
  const unresolved: string[] = []
  for (const o of olds) {
    const c = s.commune('2025-03', o.code)
    if (c !== undefined && c.district_code !== null) {
      resolved.push({ commune: c.code, district: c.district_code, province: c.province_code })
      continue
    }
    const d = s.district(o.code)
    if (d !== undefined) resolved.push({ commune: null, district: d.code, province: d.province_code })
    else unresolved.push(o.code)
  }
  const skipped = unresolved.length > 0 ? `; old ids not in the 2025-03 list ignored: ${unresolved.join(', ')}` : ''
  const districts = [...new Set(resolved.map(r => r.district))].sort()
  const legacyProvinceCode = single(resolved.map(r => r.province))
  const legacyCommuneCode = olds.length === 1 && resolved.length === 1 ? resolved[0]?.commune ?? null : null

  if (districts.length === 1) {
    return {
      ...base,
      legacyCommuneCode,
      legacyDistrictCode: districts[0] ?? null,
      legacyProvinceCode,
      note: (legacyCommuneCode !== null
        ? `single old commune ${legacyCommuneCode}`
        : `all ${resolved.length} old units merged into ${commune.code} lay in district ${districts[0] ?? ''}`) + skipped,
      ambiguous: null
    }
  }
  if (districts.length === 0) {
    return {
      ...base,
      legacyCommuneCode: null,
      legacyDistrictCode: null,
      legacyProvinceCode: null,
      note: `no old unit of ${commune.code} is in the 2025-03 list; legacy placement unknown${skipped}`,
      ambiguous: null
    }
  }
  return {
    ...base,
    legacyCommuneCode: null,
    legacyDistrictCode: null,
    legacyProvinceCode,
    note: `commune ${commune.code} draws from old districts ${districts.join(', ')}; pick the old commune to resolve${skipped}`,
    ambiguous: { level: 'district', candidates: districts }
  }
}

function fromOld (s: PlacementIndex, input: PlacementInput): Placement {
  const old = s.commune('2025-03', input.communeCode)
  if (old === undefined) {
    throw unknown('communeCode', input.communeCode, '2025-03', 'pick the commune from the pre-reform list, or pass scheme \'2025-07\' with the current commune code')
  }
  if (input.legacyCommuneCode != null && input.legacyCommuneCode !== old.code) {
    throw mismatch('legacyCommuneCode', `legacyCommuneCode "${input.legacyCommuneCode}" differs from communeCode "${old.code}" given in scheme 2025-03; drop it`, [old.code])
  }
  const legacy = { legacyCommuneCode: old.code, legacyDistrictCode: old.district_code, legacyProvinceCode: old.province_code }
  const successors = s.newOfOld(old.code)
  if (successors.length === 0) {
    throw new TocdoError('TOCDO_ERR_UNKNOWN_AREA',
      `communeCode "${old.code}" has no 2025-07 successor in the merge table; pass the 2025-07 commune with scheme '2025-07' instead`,
      { details: { field: 'communeCode', code: old.code, scheme: '2025-03' } })
  }
  const candidates = successors.map(m => m.code)

  let chosen: string | null = null
  let note: string
  if (input.newCommuneCode != null) {
    if (s.commune('2025-07', input.newCommuneCode) === undefined) {
      throw unknown('newCommuneCode', input.newCommuneCode, '2025-07', `pick one of ${candidates.join(', ')}`)
    }
    if (!candidates.includes(input.newCommuneCode)) {
      throw mismatch('newCommuneCode', `newCommuneCode "${input.newCommuneCode}" did not receive any part of old commune ${old.code}; pick one of ${candidates.join(', ')}`, candidates)
    }
    chosen = input.newCommuneCode
    note = `new commune ${chosen} as assigned for the agency` + (candidates.length > 1 ? ` (old commune ${old.code} was split among ${candidates.join(', ')})` : '')
  } else if (candidates.length === 1) {
    chosen = candidates[0] ?? null
    note = `old commune ${old.code} merged ${successors[0]?.type === 'partial' ? 'partly' : 'whole'} into ${chosen ?? ''}`
  } else {
    note = `old commune ${old.code} was split among ${candidates.join(', ')}; pass the agency's new commune`
  }

  if (chosen === null) {
    const provinces = candidates.map(c => s.commune('2025-07', c)?.province_code ?? null)
    return {
      communeCode: null,
      provinceCode: single(provinces),
      ...legacy,
      note,
      ambiguous: { level: 'commune', candidates }
    }
  }
  const now = s.commune('2025-07', chosen)
  if (now === undefined) {
    throw new TocdoError('TOCDO_ERR_UNKNOWN_AREA', `merge table names 2025-07 commune ${chosen}, which is not loaded; reload the geography seeds`, { details: { field: 'communeCode' } })
  }
  return { communeCode: now.code, provinceCode: now.province_code, ...legacy, note, ambiguous: null }
}
