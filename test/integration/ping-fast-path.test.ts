import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import net from 'node:net'
import { randomFillSync } from 'node:crypto'
import { startTempCollector, type TempCollector } from '../helpers/temp-collector.js'
import { plainPing } from '../../collector/speedtest/ping-fast-path.js'
import { PATHS, TEST_ID_HEADER } from '../../shared/protocol.js'

/** A raw client: what the server writes back is read as text, exactly as sent. */
async function rawConnection (url: string): Promise<{ sock: net.Socket, read: (until: (text: string) => boolean) => Promise<string>, closed: Promise<void> }> {
  const u = new URL(url)
  const sock = net.connect({ host: u.hostname, port: Number(u.port) })
  await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject) })
  let text = ''
  let wake: (() => void) | null = null
  sock.on('data', (d: Buffer) => { text += d.toString('latin1'); wake?.() })
  const closed = new Promise<void>((resolve) => { sock.once('close', () => { resolve() }) })
  const read = async (until: (t: string) => boolean): Promise<string> => {
    const deadline = Date.now() + 10_000
    while (!until(text)) {
      if (Date.now() > deadline) throw new Error(`timed out; received so far: ${JSON.stringify(text.slice(0, 400))}`)
      await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, 50) })
    }
    const out = text
    text = ''
    return out
  }
  return { sock, read, closed }
}

const count = (needle: string) => (t: string): boolean => t.split(needle).length - 1 >= 1
const responses = (n: number) => (t: string): boolean => (t.match(/HTTP\/1\.1 \d{3}/g) ?? []).length >= n && t.endsWith('\r\n\r\n')
const PING = `GET ${PATHS.ping} HTTP/1.1\r\nHost: x\r\n${TEST_ID_HEADER}: t1\r\n\r\n`

describe('pings answered at the socket, everything else by the HTTP server', () => {
  let c: TempCollector
  beforeAll(async () => { c = await startTempCollector({ speedtestOnly: true }) })
  afterAll(async () => { await c.close() })

  it('answers pings on one keep-alive connection with the route\'s 204, also when pipelined or cut into single bytes', async () => {
    const { sock, read } = await rawConnection(c.url)
    sock.write(PING)
    const one = await read(responses(1))
    expect(one).toMatch(/^HTTP\/1\.1 204 No Content\r\n/)
    expect(one).toMatch(/\r\ncache-control: no-store\r\n/i)
    expect(one).toMatch(/\r\nkeep-alive: timeout=72\r\n/i)
    expect(one).toMatch(/\r\ndate: \w{3}, \d\d \w{3} \d{4} /i)
    sock.write(PING + PING + PING)
    expect((await read(responses(3))).match(/HTTP\/1\.1 204/g)).toHaveLength(3)
    for (const ch of PING) { sock.write(ch); await new Promise((resolve) => setImmediate(resolve)) }
    expect((await read(responses(1))).match(/HTTP\/1\.1 204/g)).toHaveLength(1)
    sock.destroy()
  })

  it('hands the connection to the HTTP server at the first other request: an upload after pings counts every byte', async () => {
    const { sock, read } = await rawConnection(c.url)
    sock.write(PING)
    await read(responses(1))
    const body = randomFillSync(Buffer.alloc(8 * 1024 * 1024 + 17))
    // The ping, the upload head and the start of its body arrive in one write.
    sock.write(Buffer.concat([Buffer.from(PING + `POST ${PATHS.upload} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`), body.subarray(0, 1000)]))
    sock.write(body.subarray(1000))
    const reply = await read((t) => /"bytes":\d+/.test(t) && /HTTP\/1\.1 200/.test(t))
    expect(reply).toMatch(/^HTTP\/1\.1 204 No Content\r\n/)
    expect(Number(/"bytes":(\d+)/.exec(reply)![1])).toBe(body.length)
    // Pings after the hand-over are the Fastify route's: same status, same caching rule.
    sock.write(PING)
    expect(await read(responses(1))).toMatch(/^HTTP\/1\.1 204 No Content\r\n[\s\S]*cache-control: no-store/i)
    sock.destroy()
  })

  it('a first request that is not a ping (download) is served in full', async () => {
    const { sock, read } = await rawConnection(c.url)
    sock.write(`GET ${PATHS.download}?bytes=100000 HTTP/1.1\r\nHost: x\r\n\r\n`)
    const reply = await read((t) => t.includes('\r\n\r\n') && t.length >= t.indexOf('\r\n\r\n') + 4 + 100000)
    expect(reply).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*content-length: 100000\r\n/i)
    sock.destroy()
  })

  it('closes after a ping that asks for it, and leaves requests it does not parse to Node (no Host: 400)', async () => {
    const a = await rawConnection(c.url)
    a.sock.write(`GET ${PATHS.ping} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)
    expect(await a.read(count('\r\n\r\n'))).toMatch(/^HTTP\/1\.1 204 No Content\r\n[\s\S]*connection: close/i)
    await a.closed
    const b = await rawConnection(c.url)
    b.sock.write(`GET ${PATHS.ping} HTTP/1.1\r\n\r\n`)
    expect(await b.read(count('\r\n\r\n'))).toMatch(/^HTTP\/1\.1 400 /)
    b.sock.destroy()
  })

  it('does not hold up closing the server while a ping connection is idle', async () => {
    const own = await startTempCollector({ speedtestOnly: true })
    const { sock, read, closed } = await rawConnection(own.url)
    sock.write(PING)
    await read(responses(1))
    // An idle keep-alive connection left open would keep close() waiting until the test times out.
    await own.close()
    await closed
  })
})

describe('which requests count as plain pings', () => {
  it.each([
    [`GET ${PATHS.ping} HTTP/1.1\r\nHost: a`, false],
    [`GET ${PATHS.ping}?n=3 HTTP/1.1\r\nHost: a\r\nConnection: keep-alive`, false],
    [`GET ${PATHS.ping} HTTP/1.1\r\nHost: a\r\nConnection: Close`, true],
    [`GET ${PATHS.ping} HTTP/1.0\r\nHost: a`, null],
    [`HEAD ${PATHS.ping} HTTP/1.1\r\nHost: a`, null],
    [`GET ${PATHS.ping}x HTTP/1.1\r\nHost: a`, null],
    [`GET ${PATHS.ping} HTTP/1.1\r\nHost: a\r\nContent-Length: 0`, null],
    [`GET ${PATHS.ping} HTTP/1.1\r\nHost: a\r\nUpgrade: websocket`, null],
    [`GET ${PATHS.ping} HTTP/1.1`, null],
    [`GET ${PATHS.ping} HTTP/1.1\r\nbroken`, null]
  ])('%j → %s', (head, expected) => { expect(plainPing(head)).toBe(expected) })
})
