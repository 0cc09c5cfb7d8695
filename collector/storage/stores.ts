/**
 * The collector's storage boundary (docs/storage.md). Everything outside `collector/storage/`
 * reaches the database only through these interfaces; `storage/sqlite/` implements them on the
 * embedded SQLite store.
 *
 * Rules every method keeps, so a second backend can implement the same contract:
 * - it is asynchronous, even where SQLite answers synchronously;
 * - one method is one transaction: no caller ever holds a transaction across modules;
 * - a write resolves only when it is durable;
 * - a read never writes.
 */

// ── Fleet: agencies, agents, enrolment codes, tokens, remote configuration, admin audit ──
export interface FleetStore {}

// ── Results: exactly-once ingest of a commit group with its projections (rollups, IPv6
// evidence, heartbeats), retention and backup ──
export interface ResultStore {}

// ── Rollups as the reports read them ──
export interface RollupReader {}

// ── Geography (both versions), placement and targets ──
export interface GeoStore {}

// ── IPv6: watched services, probe results, evidence as the IPv6 report reads it ──
export interface Ipv6Store {}

// ── Health: agents by state, queue figures, what the dashboard's health page reads ──
export interface HealthReader {}

/** One backend's stores, opened together and closed together. */
export interface Stores {
  readonly backend: 'sqlite'
  readonly fleet: FleetStore
  readonly results: ResultStore
  readonly rollups: RollupReader
  readonly geo: GeoStore
  readonly ipv6: Ipv6Store
  readonly health: HealthReader
  close: () => Promise<void>
}
