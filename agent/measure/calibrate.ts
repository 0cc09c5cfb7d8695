import os from 'node:os'
import { Worker } from 'node:worker_threads'
import { TOCDO_VERSION } from '../../shared/version.js'
import type { Calibration } from './calibration.js'
import type { ProbeClock } from './context.js'
import { startLoopbackServer } from './loopback-server.js'
import { runSpeedTest } from './speed-test.js'

/**
 * Starts the loopback test server on a worker thread (its own event loop), falling back to
 * this thread when workers cannot start. From the TypeScript sources the worker registers
 * tsx itself, since worker threads do not inherit --import hooks.
 */
async function startServer (): Promise<{ url: string, close: () => Promise<void>, thread: 'worker' | 'same' }> {
  const here = import.meta.url
  const fromSource = here.endsWith('.ts')
  const target = new URL(fromSource ? './loopback-worker.ts' : './loopback-worker.js', here).href
  const code = fromSource
    ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(target)}) })`
    : `import(${JSON.stringify(target)})`
  try {
    const worker = new Worker(code, { eval: true })
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('loopback worker did not start within 10 s')) }, 10_000)
      worker.once('message', (m: { url: string }) => { clearTimeout(timer); resolve(m.url) })
      worker.once('error', (err) => { clearTimeout(timer); reject(err) })
      worker.once('exit', (c) => { clearTimeout(timer); reject(new Error(`loopback worker exited with ${c}`)) })
    })
    return {
      url,
      thread: 'worker',
      close: async () => {
        const exited = new Promise<void>((resolve) => { worker.once('exit', () => { resolve() }) })
        worker.postMessage('close')
        const timer = setTimeout(() => { void worker.terminate() }, 2000)
        await exited
        clearTimeout(timer)
      }
    }
  } catch {
    const s = await startLoopbackServer()
    return { url: s.url, close: s.close, thread: 'same' }
  }
}

/**
 * The agent's throughput ceiling (methodology.md §12): a 5 s test per direction against a
 * server on 127.0.0.1, through exactly the code path of a real test (same streams, ramp,
 * sampling and goodput), with no byte cap and no early stop.
 */
export async function calibrate ({ clock, seconds = 5, streams = 8 }: { clock: ProbeClock, seconds?: number, streams?: number }): Promise<Calibration> {
  const server = await startServer()
  try {
    const r = await runSpeedTest({
      server: server.url,
      clock,
      streams,
      pings: 5,
      coldConnects: 1,
      maxMsPerDirection: seconds * 1000,
      byteCapPerDirection: 1e12,
      earlyStop: null,
      warmup: { download: { minS: 1, maxS: 2 }, upload: { minS: 1, maxS: 2 } },
      readCounters: async () => ({ source: 'unavailable', reason: 'calibration', ifaces: {} })
    })
    if (r.download === null || r.upload === null) throw new Error(`loopback calibration failed: ${r.error?.detail ?? 'no result'}`)
    const cpus = os.cpus()
    return {
      loopbackDownloadMbps: r.download.mbps,
      loopbackUploadMbps: r.upload.mbps,
      measuredAt: clock.wall().toISOString(),
      agentVersion: TOCDO_VERSION,
      cpuModel: cpus[0]?.model.trim() ?? 'unknown',
      cores: cpus.length,
      durationS: seconds,
      serverThread: server.thread
    }
  } finally {
    await server.close()
  }
}
