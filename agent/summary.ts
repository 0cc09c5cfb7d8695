import type { ResultRecord } from '../shared/schemas/result.js'

const fmt = (v: number | null | undefined, unit: string, digits = 1): string => v == null ? 'n/a' : `${v.toFixed(digits)} ${unit}`

/** A readable summary of one result for a terminal. */
export function formatSummary (r: ResultRecord): string {
  const lines = [
    `tocdo speed test  ${r.measuredAt}  server ${r.server?.url ?? 'n/a'}`,
    `  status       ${r.status}${r.error !== null ? ` (${r.error.code}: ${r.error.detail})` : ''}`,
    `  download     ${fmt(r.download?.mbps, 'Mbps')}   (whole-test mean ${fmt(r.download?.meanWholeMbps, 'Mbps')}, ${r.download?.streamsMax ?? 0} streams, steady ${fmt(r.download?.windowS, 's')})`,
    `  upload       ${fmt(r.upload?.mbps, 'Mbps')}   (whole-test mean ${fmt(r.upload?.meanWholeMbps, 'Mbps')}, ${r.upload?.streamsMax ?? 0} streams, steady ${fmt(r.upload?.windowS, 's')})`,
    `  idle latency ${fmt(r.latency?.idle?.medianMs, 'ms', 2)} median   (min ${fmt(r.latency?.idle?.minMs, 'ms', 2)}, jitter ${fmt(r.latency?.idle?.jitterMs, 'ms', 2)}, n=${r.latency?.idle?.n ?? 0})`
  ]
  if (r.download?.loaded != null) lines.push(`  loaded (down) ${fmt(r.download.loaded.medianMs, 'ms', 2)} median, RPM ${fmt(r.download.loaded.rpm, '', 0)}`)
  if (r.upload?.loaded != null) lines.push(`  loaded (up)   ${fmt(r.upload.loaded.medianMs, 'ms', 2)} median, RPM ${fmt(r.upload.loaded.rpm, '', 0)}`)
  if (r.ipv6 !== null) lines.push(`  IPv6         ${r.ipv6.state}${r.ipv6.failures.length > 0 ? ` (${r.ipv6.failures.join(', ')})` : ''}`)
  lines.push(`  confidence   ${r.confidence ?? 'n/a'}`)
  if (r.flagReasons.length > 0) {
    lines.push('  flags:')
    for (const f of r.flagReasons) lines.push(`    - ${f.flag}: ${f.reason}`)
  }
  return lines.join('\n')
}
