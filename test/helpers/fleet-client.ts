import { request } from 'undici'
import { gzipSync } from 'node:zlib'
import type { ResultRecord } from '../../shared/schemas/result.js'
import type { AgentRemoteConfig, EnrollReply, Heartbeat, NewAgencyReply, NewAgencyRequest, SyncReply } from '../../shared/schemas/fleet.js'

/** A minimal HTTP client of the fleet API for tests and the bench: real requests, nothing mocked. */
export interface HttpReply<T = unknown> { status: number, headers: Record<string, string | string[] | undefined>, body: T }

export async function call<T = unknown> (url: string, { method = 'GET', token, body, raw, headers = {} }: {
  method?: 'GET' | 'POST' | 'PUT'
  token?: string
  body?: unknown
  raw?: Buffer | string
  headers?: Record<string, string>
}): Promise<HttpReply<T>> {
  const payload = raw ?? (body === undefined ? undefined : JSON.stringify(body))
  const res = await request(url, {
    method,
    headers: {
      ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
      ...headers
    },
    ...(payload !== undefined ? { body: payload } : {})
  })
  const text = await res.body.text()
  let parsed: unknown = text
  try { parsed = JSON.parse(text) } catch { /* keep the text */ }
  return { status: res.statusCode, headers: res.headers, body: parsed as T }
}

export const sampleAgency = (over: Partial<NewAgencyRequest> = {}): NewAgencyRequest => ({
  name: 'UBND xã Đăk Hà (test)',
  communeCode: '23281',
  scheme: '2025-03',
  category: 'organisation',
  connectionClass: 'fixed',
  isp: 'VNPT',
  planDownMbps: 300,
  planUpMbps: 300,
  ...over
})

export async function addAgency (base: string, adminToken: string, over: Partial<NewAgencyRequest> = {}): Promise<NewAgencyReply> {
  const r = await call<NewAgencyReply>(`${base}/api/v1/admin/agencies`, { method: 'POST', token: adminToken, body: sampleAgency(over) })
  if (r.status !== 200) throw new Error(`agency add: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}

export async function enrol (base: string, code: string, hostname = 'pc-01'): Promise<HttpReply<EnrollReply>> {
  return await call<EnrollReply>(`${base}/api/v1/enroll`, { method: 'POST', body: { code, hostname, os: 'linux 6.8', arch: 'x64', agentVersion: '0.1.0' } })
}

/** Adds an agency and enrols one agent in it. */
export async function enrolledAgent (base: string, adminToken: string, hostname = 'pc-01'): Promise<EnrollReply> {
  const { enrolment } = await addAgency(base, adminToken)
  const r = await enrol(base, enrolment.code, hostname)
  if (r.status !== 200) throw new Error(`enrol: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}

export function heartbeat (over: Partial<Heartbeat> = {}): Heartbeat {
  return {
    agentVersion: '0.1.0',
    configVersion: null,
    uptimeS: 3600,
    queue: { pending: 3, oldestAgeS: 290, dead: 0, bytes: 8123 },
    counters: { skippedCrossTraffic: 0, skippedBudget: 0, storageFull: 0, missedSlots: 0 },
    clock: { offsetMs: -340, sinceSyncS: 812 },
    ...over
  }
}

export function syncBody (agentId: string, results: ResultRecord[] | unknown[], hb: Partial<Heartbeat> = {}): { agentId: string, sentAt: string, heartbeat: Heartbeat, results: unknown[] } {
  return { agentId, sentAt: new Date().toISOString(), heartbeat: heartbeat(hb), results }
}

export async function sync (base: string, token: string, body: unknown, { gzip = false }: { gzip?: boolean } = {}): Promise<HttpReply<SyncReply & { code?: string, field?: string }>> {
  const json = JSON.stringify(body)
  return await call(`${base}/api/v1/sync`, {
    method: 'POST',
    token,
    raw: gzip ? gzipSync(json) : json,
    headers: gzip ? { 'content-encoding': 'gzip' } : {}
  })
}

export const validConfig = (over: Partial<AgentRemoteConfig> = {}): Omit<AgentRemoteConfig, 'version'> & { version?: number } => ({
  schedule: {
    fullTestsPerDay: 5,
    latencyEveryMin: 10,
    ipv6EveryMin: 240,
    officeHours: [{ start: '07:30', end: '11:30' }],
    eveningWindow: { start: '19:00', end: '22:00' },
    timezone: 'Asia/Ho_Chi_Minh'
  },
  servers: ['https://speed1.example.vn'],
  monthlyBudgetMB: 20_000,
  maxSecondsPerDirection: 12,
  ...over
})
