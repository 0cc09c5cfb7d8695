import { gzipSync } from 'node:zlib'
import { request, type Dispatcher } from 'undici'
import { FLEET_PATHS, type EnrollReply, type EnrollRequest, type SyncReply, type SyncRequest } from '../../shared/schemas/fleet.js'

/**
 * HTTP calls to the collector's fleet endpoints. They never retry and never interpret a
 * status: they return what came back (status, error code, Retry-After) and the sync engine
 * decides what to do (fleet-protocol.md §9). Timeouts: connect 15 s, whole exchange 60 s.
 */
export type FleetOutcome<T> =
  | { ok: true, status: 200, body: T, headers: Record<string, string | string[] | undefined> }
  | { ok: false, status: number, code: string, message: string, field?: string, retryAfter?: string | string[] | undefined }

const TIMEOUT_MS = 60_000

/** A request body already serialised (the sync request built around the outbox's stored bodies). */
export interface SerializedBody { readonly serialized: string }
const isSerialized = (p: unknown): p is SerializedBody => typeof p === 'object' && p !== null && typeof (p as { serialized?: unknown }).serialized === 'string'

async function post<T> (collector: string, path: string, payload: unknown, { token, gzip = false, signal, dispatcher }: { token?: string, gzip?: boolean, signal?: AbortSignal | undefined, dispatcher?: Dispatcher | undefined }): Promise<FleetOutcome<T>> {
  const json = Buffer.from(isSerialized(payload) ? payload.serialized : JSON.stringify(payload))
  const body = gzip ? gzipSync(json) : json
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (gzip) headers['content-encoding'] = 'gzip'
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  const timeout = AbortSignal.timeout(TIMEOUT_MS)
  const res = await request(new URL(path, collector), {
    method: 'POST',
    headers,
    body,
    headersTimeout: TIMEOUT_MS,
    bodyTimeout: TIMEOUT_MS,
    signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
    // The proxy and CA choice (delivery/proxy.ts); undefined: undici's global dispatcher.
    ...(dispatcher === undefined ? {} : { dispatcher })
  })
  const text = await res.body.text()
  if (res.statusCode === 200) return { ok: true, status: 200, body: JSON.parse(text) as T, headers: res.headers }
  let code = `HTTP_${res.statusCode}`
  let message = text.slice(0, 300)
  let field: string | undefined
  try {
    const e = JSON.parse(text) as { code?: unknown, message?: unknown, field?: unknown }
    if (typeof e.code === 'string') code = e.code
    if (typeof e.message === 'string') message = e.message
    if (typeof e.field === 'string') field = e.field
  } catch {}
  return { ok: false, status: res.statusCode, code, message, ...(field === undefined ? {} : { field }), retryAfter: res.headers['retry-after'] }
}

export async function postSync (collector: string, token: string, body: SyncRequest | SerializedBody, signal?: AbortSignal, dispatcher?: Dispatcher): Promise<FleetOutcome<SyncReply>> {
  return await post<SyncReply>(collector, FLEET_PATHS.sync, body, { token, gzip: true, signal, dispatcher })
}

export async function postEnroll (collector: string, body: EnrollRequest, signal?: AbortSignal, dispatcher?: Dispatcher): Promise<FleetOutcome<EnrollReply>> {
  return await post<EnrollReply>(collector, FLEET_PATHS.enroll, body, { signal, dispatcher })
}
