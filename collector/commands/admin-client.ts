import { TocdoError } from '../../shared/errors.js'
import { TOCDO_VERSION } from '../../shared/version.js'
import { ADMIN_CLI_USER_AGENT_PREFIX } from '../../shared/schemas/fleet.js'

const ADMIN_CALL_TIMEOUT_MS = 30_000

export interface AdminConnection { url: string, token: string }

/**
 * The admin CLI talks to a running collector over HTTP with the admin token, never to
 * its database: the collector stays the only writer, and the same API serves scripts.
 */
export function adminConnection (flags: { url?: string, adminToken?: string }, env: Record<string, string | undefined> = process.env): AdminConnection {
  const url = flags.url ?? env.TOCDO_URL ?? 'http://localhost:8080'
  const token = flags.adminToken ?? env.TOCDO_ADMIN_TOKEN
  if (token === undefined || token === '') {
    throw new TocdoError('TOCDO_ERR_AUTH_MISSING', 'no admin token: pass --admin-token <token> or set TOCDO_ADMIN_TOKEN (printed once by the collector at first start)')
  }
  return { url: url.replace(/\/+$/, ''), token }
}

export async function adminCall<T> (conn: AdminConnection, method: 'GET' | 'POST' | 'PUT' | 'PATCH', path: string, body?: unknown): Promise<T> {
  // A ref'd timer, unlike AbortSignal.timeout's: while a call is pending the process cannot
  // run out of work and exit 0 with nothing printed; a stalled collector ends in an error.
  const abort = new AbortController()
  const timer = setTimeout(() => { abort.abort(new Error(`no answer in ${ADMIN_CALL_TIMEOUT_MS / 1000} s`)) }, ADMIN_CALL_TIMEOUT_MS)
  let res: Response
  let text: string
  try {
    try {
      res = await fetch(`${conn.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${conn.token}`, 'user-agent': `${ADMIN_CLI_USER_AGENT_PREFIX}${TOCDO_VERSION}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: abort.signal
      })
      text = await res.text()
    } catch (err) {
      throw new TocdoError('TOCDO_ERR_SERVER_UNREACHABLE', `cannot reach the collector at ${conn.url}: ${err instanceof Error ? err.message : String(err)}; check --url or TOCDO_URL`, { cause: err })
    }
  } finally {
    clearTimeout(timer)
  }
  let parsed: unknown
  try { parsed = JSON.parse(text) } catch { parsed = { message: text } }
  if (!res.ok) {
    const e = parsed as { code?: string, message?: string, field?: string }
    const err = new Error(`${res.status} ${e.code ?? ''}: ${e.message ?? text}${e.field !== undefined ? ` (field ${e.field})` : ''}`)
    throw err
  }
  return parsed as T
}
