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
import { hashToken, newToken } from '../../collector/fleet/tokens.js'
import { Ingestor, ingestAlone } from '../../collector/ingest/ingest.js'
import { sqliteStores } from '../../collector/storage/sqlite/index.js'
import type { Agency, AgentRow, Stores } from '../../collector/storage/stores.js'
import { seedsDir } from '../../collector/paths.js'
import { record, type Sample } from '../fixtures/records.js'

// The record builder lives with the others in test/fixtures/records.ts; report tests import it from here too.
export { ictToIso, record, type Sample } from '../fixtures/records.js'

/** A store seeded with both geographies and the targets, on any backend, built through the store methods only (the contract suite's fixture). */
export interface StoresFixture<S extends Stores = Stores> {
  ingestor: Ingestor
  stores: S
  /** Creates an agency placed by an old (2025-03) commune, resolving a split commune to its first successor. */
  agency: (name: string, legacyCommune: string, attrs: { category: Agency['category'], connectionClass: Agency['connectionClass'], isp: string, planDownMbps?: number | null, planUpMbps?: number | null }) => Promise<Agency>
  agent: (agency: Agency, name: string) => Promise<AgentRow>
  ingest: (agent: AgentRow, agency: Agency, samples: Sample[], receivedAt?: number) => Promise<void>
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

/**
 * The same seeded store on SQLite, with the file's handle and directory, for the tests of what
 * only the embedded store has (its month-pack triggers, PRAGMA data_version, a second
 * connection to the file).
 */
export type Fixture = StoresFixture & { db: Db, dir: string }

export async function seededDb (): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'tocdo-report-'))
  try {
    const db = openDatabase(join(dir, 'collector.sqlite'))
    const f = await seededStores(async () => sqliteStores(db))
    // Only once the stores are closed (the WAL checkpointer's connection included) can the directory go.
    return { ...f, db, dir, close: async () => { try { await f.close() } finally { rmSync(dir, { recursive: true, force: true }) } } }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
}
