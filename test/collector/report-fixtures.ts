/**
 * Realistic result records and a seeded database for the report tests: results go through the
 * real Ingestor (validation, stamping, the valid column) and the real rollup listener.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monotonicFactory } from 'ulidx'
import { openDatabase, type Db } from '../../collector/storage/db.js'
import { loadGeography, loadTargets } from '../../collector/geo/load-geography.js'
import { placeAgent } from '../../collector/geo/placement.js'
import { AgencyStore, type Agency, type AgentRow } from '../../collector/storage/agency-store.js'
import { Ingestor } from '../../collector/ingest/ingest.js'
import { RollupWriter, markRollupsCurrent, type RollupInput } from '../../collector/aggregation/rollup.js'
import { seedsDir } from '../../collector/paths.js'
import { RESULT_SCHEMA_VERSION, type ResultRecord } from '../../shared/schemas/result.js'

const ulid = monotonicFactory()

export interface Sample {
  /** ICT wall time 'YYYY-MM-DD HH:MM' */
  at: string
  down?: number
  up?: number | null
  idle?: number | null
  kind?: 'speed' | 'skip' | 'latency'
  flags?: ResultRecord['flags']
  confidence?: ResultRecord['confidence']
  /** Whole-transfer speeds (bytes of the whole transfer / its time); default: the same as down / up. */
  downWhole?: number
  upWhole?: number
  /** null: the agent has no clock offset estimate (flags the clock as unknown) */
  offsetMs?: number | null
}

export function ictToIso (at: string): string {
  return new Date(`${at.replace(' ', 'T')}:00+07:00`).toISOString()
}

function direction (mbps: number, whole = mbps): NonNullable<ResultRecord['download']> {
  return {
    mbps,
    streamsInitial: 4,
    streamsMax: 4,
    warmupEndS: 2,
    windowS: 10,
    durationS: 12,
    bytes: Math.round(mbps * 1e6 / 8 * 10),
    meanWholeMbps: whole,
    p90_1sMbps: mbps,
    trimmedMeanMbps: mbps,
    min1sMbps: mbps,
    cv1s: 0.05,
    countedAt: 'client',
    byteCapped: false,
    streamErrors: 0,
    loaded: null,
    cpu: null,
    samples: { intervalMs: 100, cumulativeBytes: [], tMs: [] }
  }
}

export function record (s: Sample): ResultRecord {
  const kind = s.kind ?? 'speed'
  const measuredAt = ictToIso(s.at)
  const idle = s.idle ?? null
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    id: ulid(Date.parse(measuredAt)),
    seq: null,
    kind,
    status: kind === 'skip' ? 'skipped' : 'ok',
    measuredAt,
    durationMs: kind === 'speed' ? 25_000 : 0,
    agentVersion: '0.1.0',
    clock: s.offsetMs === null ? { offsetMs: null, sinceSyncS: null } : { offsetMs: s.offsetMs ?? 12, sinceSyncS: 600 },
    server: kind === 'speed' ? { url: 'https://collector.example/speedtest', address: '192.0.2.10', family: 4, candidates: [] } : null,
    context: { os: 'linux 6.1', arch: 'x64', cpuModel: 'test', cores: 4, iface: 'ethernet', linkMbps: 10_000, connectionClass: null, planDownMbps: null, planUpMbps: null, crossTraffic: null },
    latency: kind === 'speed' && idle !== null
      ? { idle: { n: 20, minMs: idle, medianMs: idle, meanMs: idle, p90Ms: idle, iqmMs: idle, jitterMs: 0.5, jitterRfc3550Ms: 0.5, samplesMs: [], connect: null } }
      : null,
    download: kind === 'speed' && s.down !== undefined ? direction(s.down, s.downWhole) : null,
    upload: kind === 'speed' && s.up != null ? direction(s.up, s.upWhole) : null,
    ipv6: null,
    flags: s.flags ?? [],
    flagReasons: [],
    confidence: kind === 'speed' ? (s.confidence ?? 'high') : null,
    error: kind === 'skip' ? { code: 'busy_line', detail: 'cross traffic on the line' } : null
  }
}

export interface Fixture {
  db: Db
  dir: string
  agencies: AgencyStore
  ingestor: Ingestor
  /** Creates an agency placed by an old (2025-03) commune, resolving a split commune to its first successor. */
  agency: (name: string, legacyCommune: string, attrs: { category: Agency['category'], connectionClass: Agency['connectionClass'], isp: string, planDownMbps?: number | null, planUpMbps?: number | null }) => Agency
  agent: (agency: Agency, name: string) => AgentRow
  ingest: (agent: AgentRow, agency: Agency, samples: Sample[], receivedAt?: number) => void
  close: () => void
}

export function seededDb ({ rollups = true }: { rollups?: boolean } = {}): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'tocdo-report-'))
  const db = openDatabase(join(dir, 'collector.sqlite'))
  loadGeography(db, seedsDir())
  loadTargets(db, seedsDir())
  const agencies = new AgencyStore(db)
  const ingestor = new Ingestor(db)
  if (rollups) {
    markRollupsCurrent(db)
    const writer = new RollupWriter(db)
    ingestor.onAccepted((rows) => { writer.apply(rows as unknown as RollupInput[]) })
  }
  return {
    db,
    dir,
    agencies,
    ingestor,
    agency (name, legacyCommune, attrs) {
      let p = placeAgent(db, { communeCode: legacyCommune, scheme: '2025-03' })
      if (p.ambiguous?.level === 'commune') p = placeAgent(db, { communeCode: legacyCommune, scheme: '2025-03', newCommuneCode: p.ambiguous.candidates[0] ?? null })
      if (p.communeCode === null || p.provinceCode === null) throw new Error(`placement failed: ${p.note}`)
      return agencies.createAgency({
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
      })
    },
    agent: (agency, name) => agencies.createAgent(agency.id, name).agent,
    ingest (agent, agency, samples, receivedAt = Date.parse('2026-11-01T00:00:00Z')) {
      const out = ingestor.ingest(agent, agency, samples.map(record), receivedAt)
      if (out.rejected > 0) throw new Error(`fixture records rejected: ${JSON.stringify(out.items.filter((i) => i.status === 'rejected'))}`)
    },
    close () {
      db.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
