/**
 * Runs M-Lab's own ndt7 client (@m-lab/ndt7) in Node against a given server.
 *
 * The library is written for browsers: ndt7.js calls `new Worker(file)` (a global) and
 * talks to it with `onmessage` / `postMessage`; the worker scripts are classic Web Worker
 * scripts that set `self.onmessage` and use the globals `WebSocket` and `postMessage`. Node
 * has none of those, so this helper supplies them and nothing else: a small web-style
 * wrapper around node:worker_threads, and inside each worker a bootstrap that installs `ws`
 * as `WebSocket` before loading the library's own, unmodified worker file.
 */
import { createRequire } from 'node:module'
import { Worker as ThreadWorker } from 'node:worker_threads'
import ndt7 from '@m-lab/ndt7'

const require = createRequire(import.meta.url)
const DOWNLOAD_WORKER = require.resolve('@m-lab/ndt7/src/ndt7-download-worker.js')
const UPLOAD_WORKER = require.resolve('@m-lab/ndt7/src/ndt7-upload-worker.js')
const WS_MODULE = require.resolve('ws')

// Runs inside the worker thread (CommonJS, since it is evaluated code).
const BOOTSTRAP = `
'use strict'
const { parentPort, workerData } = require('node:worker_threads')
globalThis.self = globalThis
globalThis.WebSocket = require(workerData.wsModule)
globalThis.postMessage = (message) => parentPort.postMessage(message)
require(workerData.script) // sets self.onmessage
parentPort.on('message', (data) => globalThis.self.onmessage({ data }))
`

interface WorkerMessageEvent { data: unknown }

/** The subset of the browser Worker API that ndt7.js uses. */
class WebStyleWorker {
  onmessage: ((ev: WorkerMessageEvent) => void) | null = null
  readonly #thread: ThreadWorker

  constructor (script: string) {
    this.#thread = new ThreadWorker(BOOTSTRAP, { eval: true, workerData: { script, wsModule: WS_MODULE } })
    this.#thread.on('message', (data: unknown) => this.onmessage?.({ data }))
    // ndt7.js treats a message without MsgType as an error and fails the subtest.
    this.#thread.on('error', (err: Error) => this.onmessage?.({ data: { MsgType: 'error', Error: err.message } }))
  }

  postMessage (data: unknown): void {
    this.#thread.postMessage(data)
  }

  terminate (): void {
    this.#thread.terminate().catch(() => {})
  }
}

export interface SubtestResult {
  start: boolean
  complete: ndt7.CompleteEvent | null
  /** Every server measurement the client received, parsed, in order. */
  serverMeasurements: unknown[]
  clientMeasurements: ndt7.ClientMeasurement[]
}

export interface Ndt7RunResult {
  /** ndt7.test()'s return code: 0 when both subtests succeeded. */
  returnCode: number
  errors: unknown[]
  download: SubtestResult
  upload: SubtestResult
}

/**
 * Runs ndt7.test() (download, then upload) against `server` ("host:port") over plain ws://.
 * The global `Worker` is installed only for the duration of the run.
 */
export async function runNdt7Client (server: string, metadata: Record<string, string> = {}): Promise<Ndt7RunResult> {
  const newSubtest = (): SubtestResult => ({ start: false, complete: null, serverMeasurements: [], clientMeasurements: [] })
  const result: Ndt7RunResult = { returnCode: -1, errors: [], download: newSubtest(), upload: newSubtest() }
  const onMeasurement = (sub: SubtestResult) => (m: ndt7.MeasurementEvent) => {
    if (m.Source === 'server') sub.serverMeasurements.push(m.Data)
    else sub.clientMeasurements.push(m.Data as ndt7.ClientMeasurement)
  }

  const previous = Object.getOwnPropertyDescriptor(globalThis, 'Worker')
  Object.defineProperty(globalThis, 'Worker', { value: WebStyleWorker, configurable: true, writable: true })
  try {
    result.returnCode = await ndt7.test({
      server,
      protocol: 'ws',
      metadata,
      // The M-Lab data policy covers M-Lab's platform; a tocdo server is not part of it.
      mlabDataPolicyInapplicable: true,
      downloadworkerfile: DOWNLOAD_WORKER,
      uploadworkerfile: UPLOAD_WORKER
    }, {
      error: (err) => { result.errors.push(err) },
      downloadStart: () => { result.download.start = true },
      downloadMeasurement: onMeasurement(result.download),
      downloadComplete: (c) => { result.download.complete = c },
      uploadStart: () => { result.upload.start = true },
      uploadMeasurement: onMeasurement(result.upload),
      uploadComplete: (c) => { result.upload.complete = c }
    })
  } finally {
    if (previous === undefined) Reflect.deleteProperty(globalThis, 'Worker')
    else Object.defineProperty(globalThis, 'Worker', previous)
  }
  return result
}
