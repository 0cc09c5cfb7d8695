import type { Ipv6PeriodRows } from '../storage/stores.js'
import type { Ipv6OnlyResult } from '../../shared/schemas/result.js'

/**
 * IPv6-only readiness in the IPv6 report (docs/ipv6-report.md), against the national goal of
 * IPv6-only state agencies by 2030: per agency its latest `ipv6_only` result of the period, per
 * area how many agencies were measured and how many could run IPv6-only today.
 */
export interface Ipv6OnlyCell {
  ready: boolean
  basis: Ipv6OnlyResult['basis']
  /** NAT64/DNS64 found by RFC 7050 (null: the lookup failed). */
  nat64: boolean | null
  nat64Prefixes: string[]
  ipv6Connect: boolean | null
  servicesOk: number
  servicesTotal: number
  /** Hosts of the listed services that did not answer over IPv6. */
  servicesFailing: string[]
  reason: string
  measuredAt: string
}

export interface Ipv6OnlyArea { measured: number, ready: number, readyShare: number | null }

/** Per agency id, the latest readiness of a period, from its latest `ipv6_only` results (Ipv6Store.reportRows). */
export function ipv6OnlyCells (rows: Ipv6PeriodRows['ipv6Only']): Map<string, Ipv6OnlyCell> {
  const out = new Map<string, Ipv6OnlyCell>()
  for (const row of rows) {
    if (out.has(row.agencyId)) continue // two agents at the same instant: the first is kept
    const r = (JSON.parse(row.raw) as { ipv6Only?: Ipv6OnlyResult | null }).ipv6Only
    if (r === undefined || r === null) continue
    out.set(row.agencyId, {
      ready: r.ready,
      basis: r.basis,
      nat64: r.dns64.found,
      nat64Prefixes: r.dns64.prefixes.map((p) => p.prefix),
      ipv6Connect: r.ipv6Connect,
      servicesOk: r.services.filter((s) => s.ok === true).length,
      servicesTotal: r.services.length,
      servicesFailing: r.services.filter((s) => s.ok !== true).map((s) => { try { return new URL(s.url).hostname } catch { return s.url } }),
      reason: r.reason,
      measuredAt: new Date(row.measuredAt).toISOString()
    })
  }
  return out
}

/** An area's agencies: measured ones, ready ones, and the ready share of all (unmeasured count as not ready). */
export function ipv6OnlyArea (cells: ReadonlyArray<Ipv6OnlyCell | null>): Ipv6OnlyArea {
  const measured = cells.filter((c) => c !== null).length
  const ready = cells.filter((c) => c?.ready === true).length
  return { measured, ready, readyShare: measured === 0 ? null : ready / cells.length }
}
