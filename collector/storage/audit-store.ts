import type { Statement } from 'better-sqlite3'
import type { Db } from './db.js'

/** One admin action as recorded (docs/operations.md, "Audit log"). */
export interface AuditEntry {
  id: number
  /** Server time, epoch ms. */
  at: number
  /** 'admin:' + the admin token's fingerprint. */
  actor: string
  via: 'cli' | 'api'
  action: string
  target: string | null
  summary: Record<string, unknown>
  clientIp: string
  status: number
}

export type NewAuditEntry = Omit<AuditEntry, 'id'>

/** Bounds so an audit row stays small whatever a request carried. */
export const AUDIT_SUMMARY_MAX_CHARS = 1000
const FIELD_MAX_CHARS = 120

interface Row { id: number, at: number, actor: string, via: string, action: string, target: string | null, summary: string, client_ip: string, status: number }

export class AuditStore {
  readonly #insert: Statement
  readonly #list: Statement
  readonly #listBefore: Statement

  constructor (db: Db) {
    this.#insert = db.prepare('INSERT INTO admin_audit (at, actor, via, action, target, summary, client_ip, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    this.#list = db.prepare('SELECT * FROM admin_audit ORDER BY id DESC LIMIT ?')
    this.#listBefore = db.prepare('SELECT * FROM admin_audit WHERE id < ? ORDER BY id DESC LIMIT ?')
  }

  record (e: NewAuditEntry): number {
    const info = this.#insert.run(e.at, clip(e.actor), e.via, clip(e.action), e.target === null ? null : clip(e.target), boundedSummary(e.summary), clip(e.clientIp), e.status)
    return Number(info.lastInsertRowid)
  }

  /** Newest first; `before` is the id of the oldest entry already seen (to page back). */
  list ({ limit, before }: { limit: number, before?: number }): AuditEntry[] {
    const rows = (before === undefined ? this.#list.all(limit) : this.#listBefore.all(before, limit)) as Row[]
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      actor: r.actor,
      via: r.via === 'cli' ? 'cli' : 'api',
      action: r.action,
      target: r.target,
      summary: JSON.parse(r.summary) as Record<string, unknown>,
      clientIp: r.client_ip,
      status: r.status
    }))
  }
}

const clip = (s: string): string => s.length > FIELD_MAX_CHARS ? s.slice(0, FIELD_MAX_CHARS) : s

/** Scalars only, strings clipped; a summary still too long is replaced by a note saying so. */
function boundedSummary (summary: Record<string, unknown>): string {
  const flat: Record<string, string | number | boolean | null> = {}
  for (const [k, v] of Object.entries(summary).slice(0, 20)) {
    if (v === null || typeof v === 'number' || typeof v === 'boolean') flat[clip(k)] = v
    else if (typeof v === 'string') flat[clip(k)] = clip(v)
    else flat[clip(k)] = clip(JSON.stringify(v) ?? String(v))
  }
  const text = JSON.stringify(flat)
  return text.length <= AUDIT_SUMMARY_MAX_CHARS ? text : JSON.stringify({ truncated: true, keys: Object.keys(flat).join(',').slice(0, 200) })
}
