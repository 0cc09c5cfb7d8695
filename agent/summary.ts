import type { Direction, ResultRecord } from '../shared/schemas/result.js'

const fmt = (v: number | null | undefined, unit: string, digits = 1): string => v == null ? 'n/a' : `${v.toFixed(digits)}${unit === '' ? '' : ` ${unit}`}`

/** RPM buckets from the responsiveness draft (methodology.md §9). */
export function rpmBucket (rpm: number | null | undefined): string {
  if (rpm == null) return ''
  return rpm < 300 ? 'Poor' : rpm < 1000 ? 'Fair' : rpm <= 6000 ? 'Good' : 'Excellent'
}

function direction (name: string, d: Direction | null, idleMedian: number | null | undefined): string[] {
  if (d === null) return [`  ${name.padEnd(12)} not measured`]
  const out = [
    `  ${name.padEnd(12)} ${d.atLeast === true ? 'at least ' : ''}${fmt(d.mbps, 'Mbps')}  ${d.atLeast === true ? 'limited by this machine\'s link, ' : ''}steady-state goodput (${fmt(d.windowS, 's')} after ${fmt(d.warmupEndS, 's')} warm-up, ${d.streamsInitial}→${d.streamsMax} streams${d.stopReason === 'early_stop' ? ', stopped early: stable' : ''})`,
    `               whole-test mean ${fmt(d.meanWholeMbps, 'Mbps')}, p90 1-s ${fmt(d.p90_1sMbps, 'Mbps')}, min 1-s ${fmt(d.min1sMbps, 'Mbps')}, CV ${fmt(d.cv1s, '', 2)}, trimmed ${fmt(d.trimmedMeanMbps, 'Mbps')}`
  ]
  if (d.loaded !== null) {
    out.push(`               loaded latency ${fmt(d.loaded.medianMs, 'ms', 2)} median (IQM ${fmt(d.loaded.iqmMs, 'ms', 2)}, +${fmt(d.loaded.increaseMs ?? (d.loaded.medianMs != null && idleMedian != null ? d.loaded.medianMs - idleMedian : null), 'ms', 2)} over idle), RPM ${fmt(d.loaded.rpm, '', 0)} ${rpmBucket(d.loaded.rpm)}`)
  }
  return out
}

/** A readable summary of one result for a terminal. */
export function formatSummary (r: ResultRecord): string {
  const idle = r.latency?.idle ?? null
  const lines = [`tocdo ${r.kind} test  ${r.measuredAt}  server ${r.server?.url ?? 'n/a'}${r.server?.family != null ? ` (IPv${r.server.family})` : ''}`]
  lines.push(`  status       ${r.status}${r.error !== null ? ` (${r.error.code}: ${r.error.detail})` : ''}`)
  for (const s of r.server?.skipped ?? []) lines.push(`  skipped      ${s.url}: ${s.reason}${s.retryAfterS !== null ? `, retry after ${s.retryAfterS} s` : ''}`)
  if (r.kind === 'speed') {
    lines.push(...direction('download', r.download, idle?.medianMs), ...direction('upload', r.upload, idle?.medianMs))
  }
  if (idle !== null) {
    lines.push(`  idle latency ${fmt(idle.medianMs, 'ms', 2)} median (min ${fmt(idle.minMs, 'ms', 2)}, p90 ${fmt(idle.p90Ms, 'ms', 2)}, jitter ${fmt(idle.jitterMs, 'ms', 2)}, n=${idle.n})`)
    if (idle.connect !== null) lines.push(`  cold connect TCP ${fmt(idle.connect.tcpMs, 'ms', 2)}, TLS ${fmt(idle.connect.tlsMs, 'ms', 2)}, first byte ${fmt(idle.connect.ttfbMs, 'ms', 2)}`)
  }
  for (const t of r.latency?.targets ?? []) {
    lines.push(`  ${`IPv${t.family}`.padEnd(12)} ${t.url}: ${t.samplesMs.length > 0 ? `TCP connect ${fmt(t.medianMs, 'ms', 2)} median (min ${fmt(t.minMs, 'ms', 2)}, p95 ${fmt(t.p95Ms, 'ms', 2)})` : 'not measured'}${t.attempts === 0 ? ` (${t.failureReasons.join(', ')})` : t.failures > 0 ? `; ${t.failures}/${t.attempts} failed: ${t.failureReasons.join(', ')}` : ''}`)
  }
  if (r.ipv6 !== null) {
    lines.push(`  IPv6         ${r.ipv6.state}${r.ipv6.mainTestFamily !== null ? `; main test used IPv${r.ipv6.mainTestFamily}` : ''}${r.ipv6.forcedV6Mbps !== null ? `; forced IPv6 download ${fmt(r.ipv6.forcedV6Mbps, 'Mbps')}` : ''}`)
    for (const c of r.ipv6.checks ?? []) lines.push(`    ${c.ok === true ? 'ok  ' : c.ok === false ? 'FAIL' : '--  '} ${c.name.padEnd(18)} ${c.detail}`)
  }
  const only = r.ipv6Only ?? null
  if (only !== null) {
    lines.push(`  IPv6-only    ${only.ready ? `ready (${only.basis === 'nat64' ? 'IPv6 + NAT64' : 'every listed service over IPv6'})` : 'not ready'}: ${only.reason}`)
    lines.push(`    ${only.dns64.found === true ? 'ok  ' : only.dns64.found === false ? 'no  ' : '??  '} DNS64/NAT64        ${only.dns64.detail}`)
    for (const s of only.services) lines.push(`    ${s.ok === true ? 'ok  ' : s.ok === false ? 'FAIL' : '--  '} ${s.url} ${s.detail}`)
  }
  if (r.kind === 'speed') {
    lines.push(`  confidence   ${r.confidence ?? 'n/a'}`)
    if (r.context.crossTrafficUnavailable !== undefined) lines.push(`  cross traffic not checked: ${r.context.crossTrafficUnavailable}`)
  }
  if (r.flagReasons.length > 0) {
    lines.push('  flags:')
    for (const f of r.flagReasons) lines.push(`    - ${f.flag}: ${f.reason}`)
  }
  return lines.join('\n')
}
