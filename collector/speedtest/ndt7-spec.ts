/**
 * Pure pieces of the ndt7 protocol (M-Lab's ndt7 protocol, v0.9.x, as docs/ndt7.md states it), kept
 * apart from the WebSocket plumbing so they can be unit-tested. Section names below refer
 * to that document; "reference server" means m-lab/ndt-server's ndt7 package.
 */

export const NDT7_SUBPROTOCOL = 'net.measurementlab.ndt.v7'
export const NDT7_DOWNLOAD_PATH = '/ndt/v7/download'
export const NDT7_UPLOAD_PATH = '/ndt/v7/upload'

export type Ndt7Test = 'download' | 'upload'

/** §"WebSocket channel usage": binary messages SHOULD start at 1 << 13 bytes. */
export const INITIAL_MESSAGE_SIZE = 1 << 13
/**
 * The spec allows messages up to 1 << 24, but the reference server stops scaling at
 * 1 << 20 (spec.MaxScaledMessageSize): larger messages made some browsers drop the
 * connection and buy nothing in throughput.
 */
export const MAX_SCALED_MESSAGE_SIZE = 1 << 20
/** §"WebSocket channel usage": a receive limit MUST NOT be smaller than 1 << 24. */
export const MAX_MESSAGE_SIZE = 1 << 24
/** §Appendix "Adapting binary message size": the 1/16 fraction. */
export const SCALING_FRACTION = 16

/** §"WebSocket channel usage": tests last up to ten seconds. */
export const DEFAULT_DURATION_MS = 10_000
/**
 * §"WebSocket channel usage": after thirteen seconds an implementation MAY close the
 * connection. We allow that much beyond the test duration for the closing handshake.
 */
export const CLOSE_GRACE_MS = 3_000
/** Measurements SHOULD NOT be sent more often than every 250 ms (ten per second on average). */
export const MEASUREMENT_INTERVAL_MS = 250

/** §"The WebSocket handshake": the query string MUST NOT be longer than 4096 bytes. */
export const MAX_QUERY_BYTES = 4096
/** The reference server accepts only these `early_exit` values, in MB (10^6 bytes). */
export const VALID_EARLY_EXIT_MB: readonly string[] = ['250']

/**
 * §Appendix "Adapting binary message size": after queueing a message, double the size once
 * it is smaller than 1/16 of the bytes queued so far, up to MAX_SCALED_MESSAGE_SIZE.
 * Only fast clients drain the queue fast enough to see large messages, because the sender
 * only queues more when the previous bytes have left (back-pressure).
 */
export function nextMessageSize (current: number, totalQueued: number): number {
  if (current >= MAX_SCALED_MESSAGE_SIZE) return current
  if (current >= Math.floor(totalQueued / SCALING_FRACTION)) return current
  return Math.min(current * 2, MAX_SCALED_MESSAGE_SIZE)
}

export type Ndt7QueryResult =
  | { ok: true, metadata: Record<string, string>, earlyExitBytes: number | null }
  | { ok: false, reason: string }

/**
 * §"The WebSocket handshake": the query string carries client metadata (client_name,
 * client_library_version, ...). It must be at most 4096 bytes and valid URL-encoded
 * UTF-8, otherwise the upgrade fails. Duplicate keys are ignored (first wins), keys without
 * a value have an empty value, and `server_`-prefixed keys are reserved and dropped.
 * `early_exit` is not in the spec text; the reference server accepts it (only "250") to end
 * the download after that many MB and rejects other values with 400, and so do we.
 *
 * @param rawQuery the part of the request URL after `?`, without the `?`
 */
export function parseNdt7Query (rawQuery: string): Ndt7QueryResult {
  if (Buffer.byteLength(rawQuery) > MAX_QUERY_BYTES) {
    return { ok: false, reason: `query string longer than ${MAX_QUERY_BYTES} bytes` }
  }
  const metadata: Record<string, string> = {}
  let earlyExitBytes: number | null = null
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    let key: string
    let value: string
    try {
      key = decodeQueryComponent(eq === -1 ? pair : pair.slice(0, eq))
      value = eq === -1 ? '' : decodeQueryComponent(pair.slice(eq + 1))
    } catch {
      return { ok: false, reason: 'query string is not valid URL-encoded UTF-8' }
    }
    if (key.startsWith('server_') || Object.hasOwn(metadata, key)) continue
    if (key === 'early_exit') {
      if (!VALID_EARLY_EXIT_MB.includes(value)) {
        return { ok: false, reason: `invalid early_exit value ${JSON.stringify(value)}` }
      }
      earlyExitBytes = Number(value) * 1_000_000
    }
    metadata[key] = value
  }
  return { ok: true, metadata, earlyExitBytes }
}

function decodeQueryComponent (s: string): string {
  // decodeURIComponent throws URIError on malformed escapes and on invalid UTF-8.
  return decodeURIComponent(s.replaceAll('+', ' '))
}

/**
 * §"Measurement message": ConnectionInfo endpoints are `<address>:<port>`, with IPv6
 * addresses in brackets.
 */
export function formatEndpoint (address: string | undefined, port: number | undefined): string {
  const host = address ?? ''
  return `${host.includes(':') ? `[${host}]` : host}:${port ?? 0}`
}

export interface Ndt7Measurement {
  AppInfo: { ElapsedTime: number, NumBytes: number }
  ConnectionInfo?: { Client: string, Server: string, UUID: string }
  Origin: 'server'
  Test: Ndt7Test
}

/**
 * §"Measurement message" (v0.9.0 format). TCPInfo and BBRInfo are omitted: Node exposes no
 * TCP_INFO / TCP_CC_INFO for a socket, and the spec makes both optional. ConnectionInfo is
 * sent exactly once (the spec's MUST), so the caller passes it only for the first message.
 */
export function buildMeasurement (
  test: Ndt7Test,
  elapsedMs: number,
  numBytes: number,
  connectionInfo?: Ndt7Measurement['ConnectionInfo']
): Ndt7Measurement {
  const m: Ndt7Measurement = {
    AppInfo: { ElapsedTime: Math.round(elapsedMs * 1000), NumBytes: numBytes },
    Origin: 'server',
    Test: test
  }
  if (connectionInfo !== undefined) m.ConnectionInfo = connectionInfo
  return m
}
