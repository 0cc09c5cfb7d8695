/**
 * A seeded database for the report tests (records from test/fixtures/records.ts): results go through the
 * real Ingestor (validation, stamping, the valid column) and the real result store's commit (rollups,
 * IPv6 evidence).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase, type Db } from '../../collector/storage/db.js'
import { geographyRows, targetRows } from '../../collector/geo/load-geography.js'
import { placeIn, placementCodes, placementIndex, type PlacementInput } from '../../collector/geo/placement.js'
import { sqliteGeo } from '../../collector/storage/sqlite/geo.js'
import { insertAgency, insertAgent } from '../../collector/storage/sqlite/fleet.js'
import { hashToken, newToken } from '../../collector/fleet/tokens.js'
import { Ingestor, ingestAlone } from '../../collector/ingest/ingest.js'
import { markRollupsCurrent } from '../../collector/storage/sqlite/rollup-writer.js'
import { sqliteStores } from '../../collector/storage/sqlite/index.js'
import type { Agency, AgentRow, Stores } from '../../collector/storage/stores.js'
import { seedsDir } from '../../collector/paths.js'
import { record, type Sample } from '../fixtures/records.js'

// The record builder lives with the others in test/fixtures/records.ts; report tests import it from here too.
export { ictToIso, record, type Sample } from '../fixtures/records.js'

export interface Fixture {
  db: Db
  dir: string
  ingestor: Ingestor
  stores: Stores
  /** Creates an agency placed by an old (2025-03) commune, resolving a split commune to its first successor. */
  agency: (name: string, legacyCommune: string, attrs: { category: Agency['category'], connectionClass: Agency['connectionClass'], isp: string, planDownMbps?: number | null, planUpMbps?: number | null }) => Agency
  agent: (agency: Agency, name: string) => AgentRow
  ingest: (agent: AgentRow, agency: Agency, samples: Sample[], receivedAt?: number) => Promise<void>
  close: () => Promise<void>
}

export function seededDb (): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'tocdo-report-'))
  const db = openDatabase(join(dir, 'collector.sqlite'))
  // Synchronously, as seededDb is: the same transactions the GeoStore's loading methods run.
  sqliteGeo.replaceGeography(db, geographyRows(seedsDir()))
  sqliteGeo.upsertTargets(db, targetRows(seedsDir()).rows)
  const place = (input: PlacementInput): ReturnType<typeof placeIn> => placeIn(placementIndex(sqliteGeo.placementRows(db, placementCodes(input))), input)
  const ingestor = new Ingestor()
  const stores = sqliteStores(db)
  markRollupsCurrent(db)
  return {
    db,
    dir,
    ingestor,
    stores,
    agency (name, legacyCommune, attrs) {
      let p = place({ communeCode: legacyCommune, scheme: '2025-03' })
      if (p.ambiguous?.level === 'commune') p = place({ communeCode: legacyCommune, scheme: '2025-03', newCommuneCode: p.ambiguous.candidates[0] ?? null })
      if (p.communeCode === null || p.provinceCode === null) throw new Error(`placement failed: ${p.note}`)
      return insertAgency(db, {
        name,
        category: attrs.category,
        connectionClass: attrs.connectionClass,
        isp: attrs.isp,
        planDownMbps: attrs.planDownMbps ?? null,
        planUpMbps: attrs.planUpMbps ?? null,
        communeCode: p.communeCode,
        provinceCode: p.provinceCode,
        legacyCommuneCode: p.legacyCommuneCode,
        legacyDistrictCode: p.legacyDistrictCode,
        legacyProvinceCode: p.legacyProvinceCode,
        placementNote: p.note
      }, Date.now())
    },
    agent: (agency, name) => insertAgent(db, agency.id, name, hashToken(newToken()), Date.now()),
    async ingest (agent, agency, samples, receivedAt = Date.parse('2026-11-01T00:00:00Z')) {
      const out = await ingestAlone(stores.results, ingestor, agent, agency, samples.map(record), receivedAt)
      if (out.rejected > 0) throw new Error(`fixture records rejected: ${JSON.stringify(out.items.filter((i) => i.status === 'rejected'))}`)
    },
    async close () {
      // Only once the stores are closed (the WAL checkpointer's connection included) can the directory go.
      await stores.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** The same seeded store as `seededDb`, on any backend, built through the store methods only (the contract suite's fixture). */
export interface StoresFixture<S extends Stores = Stores> {
  ingestor: Ingestor
  stores: S
  agency: Fixture['agency'] extends (...a: infer A) => infer R ? (...a: A) => Promise<R> : never
  agent: (agency: Agency, name: string) => Promise<AgentRow>
  ingest: Fixture['ingest']
  close: () => Promise<void>
}

export async function seededStores<S extends Stores> (open: () => Promise<S>): Promise<StoresFixture<S>> {
  const stores = await open()
  try {
    await stores.geo.replaceGeography(geographyRows(seedsDir()))
    await stores.geo.upsertTargets(targetRows(seedsDir()).rows)
    // An empty store's rollups are current: no start-up rebuild is needed.
    await stores.results.ensureRollups()
  } catch (err) {
    await stores.close()
    throw err
  }
  const place = async (input: PlacementInput): Promise<ReturnType<typeof placeIn>> => placeIn(placementIndex(await stores.geo.placementRows(placementCodes(input))), input)
  const ingestor = new Ingestor()
  return {
    ingestor,
    stores,
    async agency (name, legacyCommune, attrs) {
      let p = await place({ communeCode: legacyCommune, scheme: '2025-03' })
      if (p.ambiguous?.level === 'commune') p = await place({ communeCode: legacyCommune, scheme: '2025-03', newCommuneCode: p.ambiguous.candidates[0] ?? null })
      if (p.communeCode === null || p.provinceCode === null) throw new Error(`placement failed: ${p.note}`)
      return await stores.fleet.createAgency({
        name,
        category: attrs.category,
        connectionClass: attrs.connectionClass,
        isp: attrs.isp,
        planDownMbps: attrs.planDownMbps ?? null,
        planUpMbps: attrs.planUpMbps ?? null,
        communeCode: p.communeCode,
        provinceCode: p.provinceCode,
        legacyCommuneCode: p.legacyCommuneCode,
        legacyDistrictCode: p.legacyDistrictCode,
        legacyProvinceCode: p.legacyProvinceCode,
        placementNote: p.note
      }, Date.now())
    },
    agent: async (agency, name) => await stores.fleet.createAgent(agency.id, name, hashToken(newToken()), Date.now()),
    async ingest (agent, agency, samples, receivedAt = Date.parse('2026-11-01T00:00:00Z')) {
      const out = await ingestAlone(stores.results, ingestor, agent, agency, samples.map(record), receivedAt)
      if (out.rejected > 0) throw new Error(`fixture records rejected: ${JSON.stringify(out.items.filter((i) => i.status === 'rejected'))}`)
    },
    close: async () => { await stores.close() }
  }
}
