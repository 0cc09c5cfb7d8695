import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadGeography, loadTargets, targetRows } from '../../collector/geo/load-geography.js'
import { seedsDir } from '../../collector/paths.js'
import { LEVELS } from '../../collector/storage/area-levels.js'
import type { GeoStore } from '../../collector/storage/stores.js'
import { backends, sqliteBackend, postgresBackend, type TestStores } from '../helpers/stores.js'

/**
 * The GeoStore contract on every backend (collector/storage/{sqlite,postgres}/geo.ts): the
 * seeds replace the stored geography only when they differ, targets are upserted by id, and
 * every read answers the same on both stores.
 */
const GEO_TABLES = ['geo_province', 'geo_district', 'geo_commune', 'geo_commune_merge', 'geo_province_merge']

describe.each(backends)('GeoStore on $name', (backend) => {
  let stores: TestStores
  beforeAll(async () => {
    stores = await backend.open()
    expect(await loadGeography(stores.geo, seedsDir())).toMatchObject({ provinces: 97, districts: 696, communes: 10035 + 3321, merges: 10604, provinceMerges: 63, unchanged: false })
  })
  afterAll(async () => { await stores.close() })

  it('loading the same seeds again changes nothing; a drifted or stray row is put back to the seeds', async () => {
    const snapshot = async (): Promise<unknown> => await Promise.all(GEO_TABLES.map(stores.rows))
    const before = await snapshot()
    expect((await loadGeography(stores.geo, seedsDir())).unchanged).toBe(true)
    expect(await snapshot()).toEqual(before)
    await stores.exec("UPDATE geo_commune SET name = 'x' WHERE version = '2025-07' AND code = '23425'")
    await stores.exec("INSERT INTO geo_commune VALUES ('2025-07', '99999', '51', NULL, 'Stray', 'Xã Stray', 'Stray')")
    expect((await loadGeography(stores.geo, seedsDir())).unchanged).toBe(false)
    expect(await snapshot()).toEqual(before)
    expect((await stores.geo.commune('2025-07', '23425'))?.name).toBe('Tu Mơ Rông')
  })

  it('upserts targets by id: a reload changes nothing, a changed entry is replaced, a province\'s own target stays', async () => {
    const seed = targetRows(seedsDir())
    expect(await loadTargets(stores.geo, seedsDir())).toEqual({ targets: seed.targets, rules: seed.rules })
    const rows = await stores.rows('target')
    expect(rows).toHaveLength(seed.targets + seed.rules)
    expect(rows.find((r) => r.id === 'qd36-2025-fixed-household')).toMatchObject({ scope: 'national', year: 2025 })
    expect(rows.find((r) => r.id === 'qcvn-34-2022')).toMatchObject({ year: null })
    await loadTargets(stores.geo, seedsDir())
    expect(await stores.rows('target')).toEqual(rows)

    await stores.geo.upsertTargets([{ id: 'local-1', scope: 'provincial', year: 2026, body: { id: 'local-1' } }])
    await stores.geo.upsertTargets([{ id: 'local-1', scope: 'provincial', year: 2027, body: { id: 'local-1', note: 'revised' } }])
    await loadTargets(stores.geo, seedsDir())
    const targets = await stores.geo.targets()
    expect(targets.filter((t) => t.id === 'local-1')).toEqual([{ id: 'local-1', note: 'revised' }])
    expect((await stores.rows('target')).find((r) => r.id === 'local-1')).toMatchObject({ scope: 'provincial', year: 2027 })
    expect(targets.map((t) => t.id)).toEqual([...seed.rows.map((r) => r.id), 'local-1'].sort())
  })
})

describe('GeoStore reads agree on both backends', () => {
  const opened: TestStores[] = []
  beforeAll(async () => {
    for (const b of [sqliteBackend, postgresBackend]) {
      const s = await b.open()
      opened.push(s)
      await loadGeography(s.geo, seedsDir())
    }
  })
  afterAll(async () => { for (const s of opened) await s.close() })

  /** Every read method with arguments that hit, miss, and cross the two geographies. */
  async function reads (geo: GeoStore): Promise<unknown[]> {
    const out: unknown[] = []
    for (const v of ['2025-03', '2025-07'] as const) {
      out.push(await geo.provinces(v), await geo.province(v, '62'), await geo.province(v, '51'), await geo.province(v, '00'))
      out.push(await geo.communes(v, v === '2025-03' ? '62' : '51'), await geo.commune(v, '23425'), await geo.commune(v, '99999'))
    }
    out.push(await geo.communes('2025-03', '62', '615'), await geo.districts('62'), await geo.districts('51'))
    out.push(await geo.communeSources('23425'), await geo.communeSources('11948'), await geo.communeSources('00000'))
    for (const level of LEVELS) {
      out.push(await geo.areas(level, null))
      for (const p of ['62', '51', '24']) out.push(await geo.areas(level, p))
    }
    for (const [level, code] of [['commune', '23425'], ['legacy_district', '615'], ['province', '51'], ['legacy_province', '62'], ['commune', 'nope']] as const) {
      out.push(await geo.provinceOfArea(level, code))
    }
    out.push(await geo.provinceSuccessor('62'), await geo.provinceSuccessor('99'), await geo.provincePredecessors('51'), await geo.provincePredecessors('01'))
    const sortBy = <T>(rows: T[]): T[] => rows.map((r) => [JSON.stringify(r), r] as const).sort((a, b) => a[0] < b[0] ? -1 : 1).map(([, r]) => r)
    for (const codes of [['23425'], ['23281', '07210', '99999'], []]) {
      const p = await geo.placementRows(codes)
      out.push({ communes: sortBy(p.communes), districts: sortBy(p.districts), merges: sortBy(p.merges) })
    }
    return out
  }

  it('answers every read the same, row for row and in the same order', async () => {
    const [sqlite, postgres] = await Promise.all(opened.map(async (s) => await reads(s.geo)))
    expect(postgres).toEqual(sqlite)
    // The reads hit real rows, not only misses.
    expect((sqlite?.[0] as unknown[]).length).toBe(63)
  })
})
