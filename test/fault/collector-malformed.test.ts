import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { gzipSync } from 'node:zlib'
import { startTempCollector, type TempCollector } from '../helpers/temp-collector.js'
import { backends } from '../helpers/stores.js'
import { call, enrolledAgent, syncBody } from '../helpers/fleet-client.js'
import { latencyRecord } from '../fixtures/records.js'
import { compileValidator } from '../../shared/schemas/validate.js'
import { SyncRequest, type EnrollReply } from '../../shared/schemas/fleet.js'

const ADMIN = 'malformed-admin-token-0123456789'
const validSync = compileValidator(SyncRequest)

/** Replaces the value at `path` (a list of keys) in a deep copy of `obj`, or deletes it. */
function mutate (obj: unknown, path: string[], value: unknown, remove: boolean): unknown {
  const copy = structuredClone(obj) as Record<string, unknown>
  let node: Record<string, unknown> = copy
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>
  const last = path.at(-1) as string
  if (remove) Reflect.deleteProperty(node, last)
  else node[last] = value
  return copy
}

const ENVELOPE_PATHS = [
  ['agentId'], ['sentAt'], ['heartbeat'], ['results'], ['heartbeat', 'agentVersion'], ['heartbeat', 'configVersion'],
  ['heartbeat', 'uptimeS'], ['heartbeat', 'queue'], ['heartbeat', 'queue', 'pending'], ['heartbeat', 'queue', 'oldestAgeS'],
  ['heartbeat', 'queue', 'dead'], ['heartbeat', 'queue', 'bytes'], ['heartbeat', 'counters'], ['heartbeat', 'counters', 'storageFull'],
  ['heartbeat', 'clock'], ['heartbeat', 'clock', 'offsetMs'], ['heartbeat', 'clock', 'sinceSyncS']
]

/**
 * 1,000 malformed bodies generated with fast-check against a real collector: each gets a
 * 4xx, none a 5xx, and nothing is stored, on either store.
 */
describe.each(backends)('malformed bodies ($name)', (backend) => {
  let c: TempCollector
  let a: EnrollReply
  let statuses: number[] = []
  beforeAll(async () => {
    c = await startTempCollector({ adminToken: ADMIN, syncRateLimitMax: 100_000, commitIntervalMs: 5 }, { backend })
    a = await enrolledAgent(c.url, ADMIN)
  })
  afterAll(async () => {
    // Nothing stored by any of them.
    expect(await c.db.rows('result')).toEqual([])
    await c?.close()
  })

  const post = async (path: string, raw: Buffer | string, headers: Record<string, string> = {}): Promise<number> => {
    const r = await call(`${c.url}${path}`, { method: 'POST', token: a.token, raw, headers })
    statuses.push(r.status)
    return r.status
  }

  it('400 envelope mutations of the sync body (field missing or of the wrong type)', async () => {
    statuses = []
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...ENVELOPE_PATHS), fc.anything(), fc.boolean(), fc.boolean(),
      async (path, value, remove, gzip) => {
        const body = mutate(syncBody(a.agentId, [latencyRecord()]), path, value, remove)
        fc.pre(!validSync.check(body) || (body as { agentId: unknown }).agentId !== a.agentId)
        const json = JSON.stringify(body) ?? 'undefined'
        const status = await post('/api/v1/sync', gzip ? gzipSync(json) : json, gzip ? { 'content-encoding': 'gzip' } : {})
        expect(status).toBeGreaterThanOrEqual(400)
        expect(status).toBeLessThan(500)
      }), { numRuns: 400 })
  })

  it('400 for arbitrary bytes, as JSON and as gzip', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), fc.boolean(), async (bytes, gzipHeader) => {
      const buf = Buffer.from(bytes)
      fc.pre(!(() => { try { return validSync.check(JSON.parse(buf.toString('utf8'))) } catch { return false } })())
      const status = await post('/api/v1/sync', buf, gzipHeader ? { 'content-encoding': 'gzip' } : {})
      expect(status).toBeGreaterThanOrEqual(400)
      expect(status).toBeLessThan(500)
    }), { numRuns: 300 })
  })

  it('400 on /api/v1/results when every record is malformed', async () => {
    const keys = Object.keys(latencyRecord()).filter((k) => k !== 'id')
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom(...keys), fc.anything()), { minLength: 1, maxLength: 5 }), async (edits) => {
      // A record broken in a field the schema requires: that value is never valid there.
      const records = edits.map(([key]) => {
        const r = latencyRecord() as unknown as Record<string, unknown>
        r[key] = { not: 'valid here' }
        return r
      })
      const status = await post('/api/v1/results', JSON.stringify({ results: records }))
      expect(status).toBe(400)
    }), { numRuns: 300 })
    expect(statuses.length).toBeGreaterThanOrEqual(1000)
    expect(statuses.filter((s) => s >= 500)).toEqual([])
  })
})
