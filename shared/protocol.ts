/** Paths and protocol constants shared by the agent and the collector. */
export const API_PREFIX = '/api/v1'
export const PATHS = {
  results: `${API_PREFIX}/results`,
  districtReport: `${API_PREFIX}/reports/districts`,
  health: '/healthz',
  download: '/speedtest/download',
  upload: '/speedtest/upload',
  uploadProgress: '/speedtest/upload/progress',
  /** The server's own counters of one test (bytes, back-pressure, TCP_INFO, proxy headers). */
  testSummary: '/speedtest/summary',
  ping: '/speedtest/ping',
  info: '/.well-known/tocdo'
} as const

/** Groups the streams and probes of one test, so the server can admit or refuse whole tests. */
export const TEST_ID_HEADER = 'x-tocdo-test'

/** Largest single download a server will serve, to bound what one request can cost. */
export const MAX_DOWNLOAD_BYTES = 4 * 1024 ** 3
