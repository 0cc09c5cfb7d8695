import type { NewAuditEntry } from '../storage/stores.js'

/** Bounds so an audit row stays small whatever a request carried. */
export const AUDIT_SUMMARY_MAX_CHARS = 1000
const FIELD_MAX_CHARS = 120

const clip = (s: string): string => s.length > FIELD_MAX_CHARS ? s.slice(0, FIELD_MAX_CHARS) : s

/** An audit entry as stored: text fields clipped, the summary bounded by `boundedSummary`. */
export function boundedAuditEntry (e: NewAuditEntry): NewAuditEntry {
  return { ...e, actor: clip(e.actor), action: clip(e.action), target: e.target === null ? null : clip(e.target), summary: boundedSummary(e.summary), clientIp: clip(e.clientIp) }
}

/** Scalars only, strings clipped; a summary still too long is replaced by a note saying so. */
function boundedSummary (summary: Record<string, unknown>): Record<string, unknown> {
  const flat: Record<string, string | number | boolean | null> = {}
  for (const [k, v] of Object.entries(summary).slice(0, 20)) {
    if (v === null || typeof v === 'number' || typeof v === 'boolean') flat[clip(k)] = v
    else if (typeof v === 'string') flat[clip(k)] = clip(v)
    else flat[clip(k)] = clip(JSON.stringify(v) ?? String(v))
  }
  return JSON.stringify(flat).length <= AUDIT_SUMMARY_MAX_CHARS ? flat : { truncated: true, keys: Object.keys(flat).join(',').slice(0, 200) }
}
