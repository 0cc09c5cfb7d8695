import { parentPort } from 'node:worker_threads'
import { startLoopbackServer } from './loopback-server.js'

/**
 * The calibration server on a thread of its own, so the agent's event loop measures only
 * the client side of the code path (sharing one loop would halve the ceiling).
 */
const server = await startLoopbackServer()
parentPort?.postMessage({ url: server.url })
parentPort?.on('message', (m: unknown) => {
  if (m === 'close') void server.close().then(() => { parentPort?.close() })
})
