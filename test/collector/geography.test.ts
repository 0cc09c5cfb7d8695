import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openDatabase, type Db } from '../../collector/storage/db.js'
import { loadGeography, loadTargets } from '../../collector/geo/load-geography.js'
import { placeAgent } from '../../collector/geo/placement.js'
import { isTocdoError } from '../../shared/errors.js'
import { SqliteGeoStore } from '../../collector/storage/sqlite/geo.js'
import type { GeoStore, PlacementRows } from '../../collector/storage/stores.js'
import { backends, type TestStores } from '../helpers/stores.js'

const SEEDS = resolve(dirname(fileURLToPath(import.meta.url)), '../../seeds')

const count = (db: Db, sql: string, ...args: string[]): number => db.prepare(sql).pluck().get(...args) as number

/** New communes that received at least one commune of the old province (domain.md §7.3). */
function newCommunesCovering (db: Db, oldProvince: string): string[] {
  return db.prepare(`SELECT DISTINCT m.new_code FROM geo_commune_merge m
    JOIN geo_commune c ON c.version = '2025-03' AND c.code = m.old_code
    WHERE c.province_code = ? ORDER BY m.new_code`).pluck().all(oldProvince) as string[]
}

function straddling (db: Db, oldProvince: string): Record<string, string[]> {
  const rows = db.prepare(`SELECT m.new_code AS code, group_concat(DISTINCT c.district_code) AS districts
    FROM geo_commune_merge m JOIN geo_commune c ON c.version = '2025-03' AND c.code = m.old_code
    WHERE m.new_code IN (SELECT m2.new_code FROM geo_commune_merge m2
      JOIN geo_commune c2 ON c2.version = '2025-03' AND c2.code = m2.old_code WHERE c2.province_code = ?)
    GROUP BY m.new_code HAVING count(DISTINCT c.district_code) > 1`).all(oldProvince) as Array<{ code: string, districts: string }>
  return Object.fromEntries(rows.map(r => [r.code, r.districts.split(',').sort()]))
}

async function caught (fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn()
  } catch (err) {
    return err
  }
  throw new Error('expected an error')
}

describe('geography seeds', () => {
  let db: Db
  let geo: GeoStore
  beforeAll(async () => {
    db = openDatabase(':memory:')
    geo = new SqliteGeoStore(db)
    const counts = await loadGeography(geo, SEEDS)
    expect(counts).toMatchObject({ provinces: 97, districts: 696, communes: 10035 + 3321, merges: 10604, provinceMerges: 63, unchanged: false })
  })

  it('holds 63 + 34 provinces, 696 districts, 10,035 old and 3,321 new communes', async () => {
    expect(count(db, "SELECT count(*) FROM geo_province WHERE version = '2025-03'")).toBe(63)
    expect(count(db, "SELECT count(*) FROM geo_province WHERE version = '2025-07'")).toBe(34)
    expect(count(db, "SELECT count(*) FROM geo_district WHERE version = '2025-03'")).toBe(696)
    expect(count(db, "SELECT count(*) FROM geo_commune WHERE version = '2025-03'")).toBe(10035)
    expect(count(db, "SELECT count(*) FROM geo_commune WHERE version = '2025-07'")).toBe(3321)
    expect(count(db, "SELECT count(*) FROM geo_commune WHERE version = '2025-07' AND district_code IS NOT NULL")).toBe(0)
  })

  it('keeps the five island districts that have no communes', async () => {
    for (const code of ['318', '471', '498', '536', '755']) {
      expect(count(db, "SELECT count(*) FROM geo_district WHERE version = '2025-03' AND code = ?", code)).toBe(1)
      expect(count(db, "SELECT count(*) FROM geo_commune WHERE version = '2025-03' AND district_code = ?", code)).toBe(0)
    }
  })

  it('keys geography by (version, code): 24 is Bắc Giang before and Bắc Ninh after', async () => {
    const name = (v: string, c: string): unknown => db.prepare('SELECT name FROM geo_province WHERE version = ? AND code = ?').pluck().get(v, c)
    expect(name('2025-03', '24')).toBe('Bắc Giang')
    expect(name('2025-07', '24')).toBe('Bắc Ninh')
    expect(db.prepare("SELECT old_code FROM geo_province_merge WHERE new_code = '24' ORDER BY old_code").pluck().all()).toEqual(['24', '27'])
    expect(db.prepare("SELECT old_code FROM geo_province_merge WHERE new_code = '51' ORDER BY old_code").pluck().all()).toEqual(['51', '62'])
  })

  it('stores names in NFC with full names and English names', async () => {
    const row = db.prepare("SELECT name, full_name, name_en FROM geo_commune WHERE version = '2025-07' AND code = '23425'").get() as { name: string, full_name: string, name_en: string }
    expect(row).toEqual({ name: 'Tu Mơ Rông', full_name: 'Xã Tu Mơ Rông', name_en: 'Tu Mo Rong' })
    expect(row.name).toBe(row.name.normalize('NFC'))
    expect(db.prepare("SELECT name_en FROM geo_province WHERE version = '2025-07' AND code = '01'").pluck().get()).toBe('Hanoi')
    const names = db.prepare('SELECT name FROM geo_commune').pluck().all() as string[]
    expect(names.every(n => n === n.normalize('NFC'))).toBe(true)
  })

  // Each old district's code and commune count, straight from domain.md §7.3.
  const districts: Record<string, Record<string, number>> = {
    '08': { '070': 15, '071': 10, '072': 12, '073': 24, '074': 18, '075': 28, '076': 30 },
    27: { 256: 17, 258: 14, 259: 20, 260: 14, 261: 12, 262: 18, 263: 14, 264: 12 },
    62: { 608: 21, 610: 12, 611: 8, 612: 9, 613: 9, 614: 7, 615: 11, 616: 11, 617: 11, 618: 3 },
    96: { 964: 16, 966: 8, 967: 12, 968: 13, 969: 11, 970: 16, 971: 8, 972: 9, 973: 7 }
  }
  for (const [province, expected] of Object.entries(districts)) {
    it(`old province ${province} has exactly the districts of domain.md §7.3`, async () => {
      const rows = db.prepare(`SELECT d.code, count(c.code) AS n FROM geo_district d
        LEFT JOIN geo_commune c ON c.version = d.version AND c.district_code = d.code
        WHERE d.version = '2025-03' AND d.province_code = ? GROUP BY d.code ORDER BY d.code`).all(province) as Array<{ code: string, n: number }>
      expect(Object.fromEntries(rows.map(r => [r.code, r.n]))).toEqual(expected)
    })
  }

  // [old province, new province, new communes covering the old province, new province total, straddling]
  const areas: Array<[string, string, number, number, Record<string, string[]>]> = [
    ['08', '08', 51, 124, { '02212': ['070', '075'], '02215': ['070', '075'], '02509': ['070', '075'], '02512': ['070', '075'], '02545': ['075', '076'] }],
    ['27', '24', 41, 99, {}],
    ['62', '51', 40, 96, { 23425: ['615', '617'] }],
    ['96', '96', 39, 64, { 32014: ['964', '968'], 32134: ['968', '969'], 32201: ['971', '973'], 32214: ['969', '972'] }]
  ]
  for (const [oldP, newP, covering, total, strad] of areas) {
    it(`old ${oldP} -> new ${newP}: ${covering} / ${total} new communes, straddling as in §7.3`, async () => {
      const cov = newCommunesCovering(db, oldP)
      expect(cov).toHaveLength(covering)
      expect(count(db, "SELECT count(*) FROM geo_commune WHERE version = '2025-07' AND province_code = ?", newP)).toBe(total)
      // No new commune in these areas straddles an old province boundary, and all sit in the new province.
      for (const code of cov) {
        expect(db.prepare("SELECT province_code FROM geo_commune WHERE version = '2025-07' AND code = ?").pluck().get(code)).toBe(newP)
      }
      expect(straddling(db, oldP)).toEqual(strad)
    })
  }

  it('fans out old districts as domain.md §7.3 says (Kon Tum, Bắc Ninh)', async () => {
    const fanOut = (district: string): number => count(db, `SELECT count(DISTINCT m.new_code) FROM geo_commune_merge m
      JOIN geo_commune c ON c.version = '2025-03' AND c.code = m.old_code WHERE c.district_code = ?`, district)
    const konTum = { 608: 6, 610: 6, 611: 3, 612: 3, 613: 3, 614: 3, 615: 6, 616: 5, 617: 4, 618: 2 }
    const bacNinh = { 256: 5, 258: 5, 259: 7, 260: 5, 261: 4, 262: 6, 263: 5, 264: 4 }
    for (const [d, n] of Object.entries({ ...konTum, ...bacNinh })) expect([d, fanOut(d)]).toEqual([d, n])
  })

  it('counts partial merges: 21 of 39 in former Cà Mau, 4 of 51 in former Tuyên Quang, none in the others', async () => {
    const partial = (oldP: string): number => newCommunesCovering(db, oldP)
      .filter(code => count(db, "SELECT count(*) FROM geo_commune_merge WHERE new_code = ? AND type = 'partial'", code) > 0).length
    expect([partial('96'), partial('08'), partial('27'), partial('62')]).toEqual([21, 4, 0, 0])
  })

  it('places 161 of the 171 new communes of the seed areas in a single old district', async () => {
    let single = 0
    let all = 0
    for (const oldP of ['08', '27', '62', '96']) {
      for (const code of newCommunesCovering(db, oldP)) {
        all++
        if ((await placeAgent(geo, { communeCode: code, scheme: '2025-07' })).ambiguous === null) single++
      }
    }
    expect([single, all]).toEqual([161, 171])
  })

  it('uses the QĐ 19 codes for Xã Ba Chẽ (06978) and Xã Ia Mơ (23938)', async () => {
    for (const [good, bad, name] of [['06978', '06970', 'Ba Chẽ'], ['23938', '23737', 'Ia Mơ']] as const) {
      expect(db.prepare("SELECT name FROM geo_commune WHERE version = '2025-07' AND code = ?").pluck().get(good)).toBe(name)
      expect(count(db, 'SELECT count(*) FROM geo_commune_merge WHERE new_code = ?', good)).toBeGreaterThan(0)
      expect(count(db, 'SELECT count(*) FROM geo_commune_merge WHERE new_code = ?', bad)).toBe(0)
      expect((await placeAgent(geo, { communeCode: good, scheme: '2025-07' })).communeCode).toBe(good)
    }
    // Every new code in the mapping is a 2025-07 commune.
    expect(count(db, "SELECT count(DISTINCT new_code) FROM geo_commune_merge WHERE new_code NOT IN (SELECT code FROM geo_commune WHERE version = '2025-07')")).toBe(0)
    expect(count(db, 'SELECT count(DISTINCT new_code) FROM geo_commune_merge')).toBe(3321)
  })

  it('keeps the 17 old ids that are not 2025-03 communes', async () => {
    const odd = db.prepare("SELECT DISTINCT old_code FROM geo_commune_merge WHERE old_code NOT IN (SELECT code FROM geo_commune WHERE version = '2025-03') ORDER BY old_code").pluck().all()
    expect(odd).toEqual(['07693', '07732', '07744', '16387', '16411', '18448', '20176', '20674', '25102', '25174', '25177', '25186', '318', '471', '498', '536', '755'])
    const seed = JSON.parse(readFileSync(join(SEEDS, 'admin-units', 'commune-merges-2025.json'), 'utf8')) as { oldIdsNotIn2025_03Communes: string[] }
    expect(seed.oldIdsNotIn2025_03Communes).toEqual(odd)
  })

  it('loading twice changes nothing', async () => {
    const snapshot = (): string => JSON.stringify([
      db.prepare('SELECT * FROM geo_province ORDER BY version, code').raw().all(),
      db.prepare('SELECT * FROM geo_district ORDER BY version, code').raw().all(),
      db.prepare('SELECT * FROM geo_commune ORDER BY version, code').raw().all(),
      db.prepare('SELECT * FROM geo_commune_merge ORDER BY new_code, old_code').raw().all(),
      db.prepare('SELECT * FROM geo_province_merge ORDER BY new_code, old_code').raw().all()
    ])
    const before = snapshot()
    const again = await loadGeography(geo, SEEDS)
    expect(again.unchanged).toBe(true)
    expect(again).toMatchObject({ provinces: 97, districts: 696, communes: 13356, merges: 10604 })
    expect(snapshot()).toBe(before)

    // A drifted row is put back, and only the seed content remains.
    db.prepare("UPDATE geo_commune SET name = 'x' WHERE version = '2025-07' AND code = '23425'").run()
    db.prepare("INSERT INTO geo_commune VALUES ('2025-07', '99999', '51', NULL, 'Stray', 'Xã Stray', 'Stray')").run()
    expect((await loadGeography(geo, SEEDS)).unchanged).toBe(false)
    expect(snapshot()).toBe(before)
  })

  it('loads the targets idempotently', async () => {
    const first = await loadTargets(geo, SEEDS)
    const rows = db.prepare('SELECT * FROM target ORDER BY id').all()
    expect(await loadTargets(geo, SEEDS)).toEqual(first)
    expect(db.prepare('SELECT * FROM target ORDER BY id').all()).toEqual(rows)
    expect(rows).toHaveLength(first.targets + first.rules)
  })
})

describe.each(backends)('placing an agent (domain.md §7.4) on $name', (backend) => {
  let stores: TestStores
  let geo: GeoStore
  /** The whole geography as placement reads it, to find examples. */
  let rows: PlacementRows
  beforeAll(async () => {
    stores = await backend.open()
    geo = stores.geo
    await loadGeography(geo, SEEDS)
    rows = await geo.placementRows(null)
  })
  afterAll(async () => { await stores.close() })
  const oldsOf = (newCode: string, type?: string): string[] => rows.merges.filter((m) => m.newCode === newCode && (type === undefined || m.type === type)).map((m) => m.oldCode).sort()
  const newsOf = (oldCode: string): string[] => rows.merges.filter((m) => m.oldCode === oldCode).map((m) => m.newCode).sort()
  const oldCommune = (code: string): PlacementRows['communes'][number] | undefined => rows.communes.find((c) => c.version === '2025-03' && c.code === code)

  it('from a 2025-07 commune with a single old district', async () => {
    // Phường Bắc Giang (07210): all known old communes in district 213; two old ids are renumbered ones.
    const p = (await placeAgent(geo, { communeCode: '07210', scheme: '2025-07' }))
    expect(p).toMatchObject({ communeCode: '07210', provinceCode: '24', legacyDistrictCode: '213', legacyProvinceCode: '24', legacyCommuneCode: null, ambiguous: null })
    expect(p.note).toContain('07732')
  })

  it('an island special zone gets its old island district', async () => {
    expect((await placeAgent(geo, { communeCode: '11948', scheme: '2025-07' }))).toMatchObject({ provinceCode: '31', legacyDistrictCode: '318', legacyProvinceCode: '31', legacyCommuneCode: null, ambiguous: null })
  })

  it('a new commune from a single old commune also gives the legacy commune', async () => {
    const olds = [...new Set(rows.merges.map((m) => m.newCode))].sort().find((n) => oldsOf(n).length === 1 && oldCommune(oldsOf(n)[0] ?? '') !== undefined) as string
    const old = oldsOf(olds)[0]
    expect((await placeAgent(geo, { communeCode: olds, scheme: '2025-07' })).legacyCommuneCode).toBe(old)
  })

  const straddlers: Array<[string, string, string[], string]> = [
    ['23425', 'Xã Tu Mơ Rông', ['615', '617'], '62'],
    ['02212', 'Phường Nông Tiến', ['070', '075'], '08'],
    ['02215', 'Phường Minh Xuân', ['070', '075'], '08'],
    ['02509', 'Phường Mỹ Lâm', ['070', '075'], '08'],
    ['02512', 'Phường An Tường', ['070', '075'], '08'],
    ['02545', 'Xã Tân Trào', ['075', '076'], '08'],
    ['32014', 'Phường Lý Văn Lâm', ['964', '968'], '96'],
    ['32134', 'Xã Lương Thế Trân', ['968', '969'], '96'],
    ['32201', 'Xã Đất Mới', ['971', '973'], '96'],
    ['32214', 'Xã Phú Mỹ', ['969', '972'], '96']
  ]
  for (const [code, name, candidates, oldProvince] of straddlers) {
    it(`${name} (${code}) is ambiguous between ${candidates.join(' and ')} until an old commune is picked`, async () => {
      expect((await geo.commune('2025-07', code))?.fullName).toBe(name)
      const p = (await placeAgent(geo, { communeCode: code, scheme: '2025-07' }))
      expect(p).toMatchObject({ communeCode: code, legacyDistrictCode: null, legacyProvinceCode: oldProvince, ambiguous: { level: 'district', candidates } })

      for (const district of candidates) {
        const old = oldsOf(code).find((o) => oldCommune(o)?.districtCode === district) as string
        expect((await placeAgent(geo, { communeCode: code, scheme: '2025-07', legacyCommuneCode: old }))).toMatchObject({
          communeCode: code, legacyCommuneCode: old, legacyDistrictCode: district, legacyProvinceCode: oldProvince, ambiguous: null
        })
      }
    })
  }

  it('from a 2025-03 commune that merged whole', async () => {
    const old = oldsOf('23425', 'full')[0] as string
    const district = oldCommune(old)?.districtCode
    expect((await placeAgent(geo, { communeCode: old, scheme: '2025-03' }))).toMatchObject({
      communeCode: '23425', provinceCode: '51', legacyCommuneCode: old, legacyDistrictCode: district, legacyProvinceCode: '62', ambiguous: null
    })
  })

  it('a split old commune needs the agency\'s own new commune', async () => {
    const old = [...new Set(rows.merges.map((m) => m.oldCode))].sort().find((o) => newsOf(o).length > 1) as string
    const successors = newsOf(old)
    const p = (await placeAgent(geo, { communeCode: old, scheme: '2025-03' }))
    expect(p.communeCode).toBeNull()
    expect(p.legacyCommuneCode).toBe(old)
    expect(p.ambiguous).toEqual({ level: 'commune', candidates: successors })

    const chosen = successors[1] as string
    expect((await placeAgent(geo, { communeCode: old, scheme: '2025-03', newCommuneCode: chosen }))).toMatchObject({ communeCode: chosen, legacyCommuneCode: old, ambiguous: null })

    const elsewhere = rows.communes.filter((c) => c.version === '2025-07' && !successors.includes(c.code)).map((c) => c.code).sort()[0] as string
    const err = await caught(async () => await placeAgent(geo, { communeCode: old, scheme: '2025-03', newCommuneCode: elsewhere }))
    expect(isTocdoError(err) && err.code === 'TOCDO_ERR_VALIDATION' && err.details?.field === 'newCommuneCode').toBe(true)
  })

  it('an unknown code names the field to fix', async () => {
    for (const [input, field] of [
      [{ communeCode: '06970', scheme: '2025-07' }, 'communeCode'],
      [{ communeCode: '99999', scheme: '2025-03' }, 'communeCode'],
      [{ communeCode: '23425', scheme: '2025-07', legacyCommuneCode: '99999' }, 'legacyCommuneCode']
    ] as const) {
      const err = await caught(async () => await placeAgent(geo, input))
      expect(isTocdoError(err)).toBe(true)
      if (!isTocdoError(err)) continue
      expect(err.code).toBe('TOCDO_ERR_UNKNOWN_AREA')
      expect(err.details).toMatchObject({ field })
      expect(err.message).toContain(field)
      expect(err.message).toContain(input.scheme === '2025-03' && field === 'communeCode' ? '2025-03' : field === 'legacyCommuneCode' ? '2025-03' : '2025-07')
    }
  })

  it('an old commune that did not go into the new one is refused', async () => {
    const err = await caught(async () => await placeAgent(geo, { communeCode: '23425', scheme: '2025-07', legacyCommuneCode: '00001' }))
    expect(isTocdoError(err) && err.code === 'TOCDO_ERR_VALIDATION' && err.details?.field === 'legacyCommuneCode').toBe(true)
  })
})
