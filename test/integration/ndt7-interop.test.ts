import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { describe, it, expect } from 'vitest'
import Fastify, { type FastifyInstance } from 'fastify'
import { WebSocket } from 'ws'
import { ndt7Plugin, type Ndt7PluginOptions, type Ndt7TestSummary } from '../../collector/speedtest/ndt7.js'
import { INITIAL_MESSAGE_SIZE, MAX_SCALED_MESSAGE_SIZE, NDT7_SUBPROTOCOL } from '../../collector/speedtest/ndt7-spec.js'
import { runNdt7Client } from '../helpers/ndt7-node-client.js'

// One incompressible payload for the whole file, as the collector does.
const payload = randomBytes(8 * 1024 * 1024)

interface Server { app: FastifyInstance, host: string, summaries: Ndt7TestSummary[] }

async function startServer (opts: Partial<Ndt7PluginOptions> = {}): Promise<Server> {
  const summaries: Ndt7TestSummary[] = []
  const app = Fastify()
  await app.register(ndt7Plugin, { payload, onTestComplete: (s) => summaries.push(s), ...opts })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  return { app, host: `127.0.0.1:${port}`, summaries }
}

async function waitFor (cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for condition')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/**
 * Attempts an upgrade; resolves with the HTTP status (101 when it was accepted). A message
 * listener must be attached up front: frames that arrive with the 101 are emitted before
 * the returned promise settles.
 */
async function upgradeStatus (
  url: string, protocols?: string | string[], onMessage?: (data: Buffer, isBinary: boolean) => void
): Promise<{ status: number, headers: Record<string, unknown>, ws: WebSocket }> {
  const ws = new WebSocket(url, protocols)
  if (onMessage !== undefined) ws.on('message', onMessage)
  return await new Promise((resolve, reject) => {
    ws.once('upgrade', (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, ws }))
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers, ws })
      res.resume()
    })
    ws.once('error', reject)
  })
}

const mbps = (bytes: number, ms: number): number => bytes * 8 / ms / 1000

interface ServerMeasurementJson {
  AppInfo: { ElapsedTime: number, NumBytes: number }
  ConnectionInfo?: { Client: string, Server: string, UUID: string }
  Origin: string
  Test: string
}

describe('ndt7 server against M-Lab\'s @m-lab/ndt7 client', () => {
  it('completes download and upload; client and server agree on the rates', async () => {
    const { app, host, summaries } = await startServer()
    try {
      const result = await runNdt7Client(host, { client_name: 'tocdo-interop-test', client_version: '0.1.0' })
      expect(result.errors).toEqual([])
      expect(result.returnCode).toBe(0)
      await waitFor(() => summaries.length === 2)

      for (const test of ['download', 'upload'] as const) {
        const sub = result[test]
        const server = summaries.find((s) => s.test === test)
        expect(sub.start).toBe(true)
        expect(sub.complete).not.toBeNull()
        expect(server).toBeDefined()
        if (server === undefined || sub.complete === null) return

        // The spec's "up to ten seconds", ended by us, on our 250 ms grid.
        expect(server.elapsedMs).toBeGreaterThan(9_000)
        expect(server.elapsedMs).toBeLessThan(11_000)
        expect(server.metadata).toMatchObject({ client_name: 'tocdo-interop-test', client_library_name: 'ndt7-js' })

        const client = sub.complete.LastClientMeasurement
        expect(client).toBeDefined()
        const clientMbps = client?.MeanClientMbps ?? 0
        const serverMbps = mbps(server.bytes, server.elapsedMs)
        expect(clientMbps).toBeGreaterThan(0)
        expect(serverMbps).toBeGreaterThan(0)
        // Both ends measure the same stream; they differ only by what is in flight in
        // kernel buffers and by the client's last 250 ms sample.
        expect(clientMbps / serverMbps).toBeGreaterThan(0.75)
        expect(clientMbps / serverMbps).toBeLessThan(1.33)

        // Server measurements: v0.9 format, ConnectionInfo exactly once, >= 250 ms apart.
        const ms = sub.serverMeasurements as ServerMeasurementJson[]
        expect(ms.length).toBeGreaterThan(20)
        expect(ms.every((m) => m.Origin === 'server' && m.Test === test)).toBe(true)
        expect(ms[0]?.ConnectionInfo).toEqual({ Client: expect.stringMatching(/^127\.0\.0\.1:\d+$/), Server: host, UUID: server.uuid })
        expect(ms.slice(1).every((m) => m.ConnectionInfo === undefined)).toBe(true)
        for (let i = 1; i < ms.length; i++) {
          const gapUs = (ms[i]?.AppInfo.ElapsedTime ?? 0) - (ms[i - 1]?.AppInfo.ElapsedTime ?? 0)
          expect(gapUs).toBeGreaterThanOrEqual(248_000) // µs; Node timers have ms granularity
          expect(ms[i]?.AppInfo.NumBytes).toBeGreaterThanOrEqual(ms[i - 1]?.AppInfo.NumBytes ?? 0)
        }
        if (server.endedBy === 'duration') {
          // The last measurement is the summary, and it is exactly the server's own count.
          expect(sub.complete.LastServerMeasurement).toEqual(ms.at(-1))
          expect(ms.at(-1)?.AppInfo.NumBytes).toBe(server.bytes)
        }
      }
      // We end the download; the upload may be ended by either side at ten seconds.
      expect(summaries.find((s) => s.test === 'download')?.endedBy).toBe('duration')
    } finally {
      await app.close()
    }
  }, 60_000)
})

describe('ndt7 handshake', () => {
  it('answers 400 without the ndt7 subprotocol and 404 for other /ndt/ paths', async () => {
    const { app, host } = await startServer()
    try {
      expect((await upgradeStatus(`ws://${host}/ndt/v7/download`)).status).toBe(400)
      expect((await upgradeStatus(`ws://${host}/ndt/v7/upload`, 'chat')).status).toBe(400)
      expect((await upgradeStatus(`ws://${host}/ndt/v7/download?early_exit=123`, NDT7_SUBPROTOCOL)).status).toBe(400)
      expect((await upgradeStatus(`ws://${host}/ndt/v7/download?bad=%E0%A4%A`, NDT7_SUBPROTOCOL)).status).toBe(400)
      expect((await upgradeStatus(`ws://${host}/ndt/v7/ping`, NDT7_SUBPROTOCOL)).status).toBe(404)

      const ok = await upgradeStatus(`ws://${host}/ndt/v7/upload?client_name=x&server_foo=1`, ['chat', NDT7_SUBPROTOCOL])
      expect(ok.status).toBe(101)
      expect(ok.headers['sec-websocket-protocol']).toBe(NDT7_SUBPROTOCOL)
      ok.ws.terminate()
    } finally {
      await app.close()
    }
  })

  it('answers 503 with Retry-After when admission says the server is full, and releases slots', async () => {
    let active = 0
    let releases = 0
    const admit = (): (() => void) | null => {
      if (active >= 1) return null
      active++
      return () => { active--; releases++ }
    }
    const { app, host } = await startServer({ admit, retryAfterSeconds: 7, maxDurationMs: 2_000 })
    try {
      const first = await upgradeStatus(`ws://${host}/ndt/v7/download`, NDT7_SUBPROTOCOL, () => {})
      expect(first.status).toBe(101)

      const full = await upgradeStatus(`ws://${host}/ndt/v7/upload`, NDT7_SUBPROTOCOL)
      expect(full.status).toBe(503)
      expect(full.headers['retry-after']).toBe('7')

      first.ws.close()
      await waitFor(() => active === 0)
      expect(releases).toBe(1)
      const again = await upgradeStatus(`ws://${host}/ndt/v7/upload`, NDT7_SUBPROTOCOL)
      expect(again.status).toBe(101)
      again.ws.terminate()
      await waitFor(() => active === 0)
    } finally {
      await app.close()
    }
  })

  it('closes every test socket when the server closes', async () => {
    const { app, host } = await startServer()
    const { ws } = await upgradeStatus(`ws://${host}/ndt/v7/upload`, NDT7_SUBPROTOCOL)
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()))
    // close() itself waits for open connections, so it returns only once the test socket is closed.
    await app.close()
    await closed
  })
})

describe('ndt7 download sender', () => {
  it('scales message sizes from 1<<13 and honours early_exit=250 (250 MB)', async () => {
    const { app, host, summaries } = await startServer()
    try {
      const sizes: number[] = []
      let received = 0
      const { ws, status } = await upgradeStatus(`ws://${host}/ndt/v7/download?early_exit=250`, NDT7_SUBPROTOCOL, (data, isBinary) => {
        if (!isBinary) return
        sizes.push(data.length)
        received += data.length
      })
      expect(status).toBe(101)
      await new Promise<void>((resolve) => ws.once('close', () => resolve()))
      await waitFor(() => summaries.length === 1)
      const s = summaries[0]
      expect(s?.endedBy).toBe('early_exit')
      expect(s?.bytes).toBeGreaterThanOrEqual(250_000_000)
      expect(s?.elapsedMs).toBeLessThan(10_000)
      expect(received).toBeGreaterThanOrEqual(s?.bytes ?? Infinity)

      expect(sizes[0]).toBe(INITIAL_MESSAGE_SIZE)
      // Appendix rule: 17 messages of 8 KiB, then the first doubling.
      expect(sizes.slice(0, 17).every((n) => n === INITIAL_MESSAGE_SIZE)).toBe(true)
      expect(sizes[17]).toBe(2 * INITIAL_MESSAGE_SIZE)
      expect(sizes.every((n, i) => i === 0 || n >= (sizes[i - 1] ?? 0))).toBe(true)
      expect(Math.max(...sizes)).toBe(MAX_SCALED_MESSAGE_SIZE)
    } finally {
      await app.close()
    }
  })
})
