import fp from 'fastify-plugin'
import type { ResultStore } from '../storage/stores.js'

const HOUR_MS = 3_600_000

/**
 * Runs result retention one minute after start and then hourly when `retentionDays` > 0.
 * Decorates `runRetention(now)` for the CLI-less admin and for tests.
 */
declare module 'fastify' {
  interface FastifyInstance {
    runRetention: (now?: number) => Promise<number>
  }
}

export default fp<{ retentionDays: number, batchRows: number }>(async (fastify, { retentionDays, batchRows }) => {
  const retention = fastify.stores.results
  let running: Promise<number> | null = null
  const run = async (now = Date.now()): Promise<number> => {
    if (retentionDays <= 0) return 0
    running ??= applyRetention(retention, now - retentionDays * 86_400_000, batchRows).then((n) => {
      if (n > 0) fastify.log.info({ deleted: n, retentionDays }, 'retention: raw results older than the retention age deleted')
      return n
    }).finally(() => { running = null })
    return await running
  }
  fastify.decorate('runRetention', run)
  if (retentionDays > 0) {
    let timer: NodeJS.Timeout | null = null
    fastify.addHook('onReady', async () => {
      const tick = (delay: number): void => {
        timer = setTimeout(() => { run().catch((err: unknown) => { fastify.log.error({ err }, 'retention failed') }).finally(() => { tick(HOUR_MS) }) }, delay)
        timer.unref()
      }
      tick(60_000)
    })
    fastify.addHook('preClose', async () => { if (timer !== null) clearTimeout(timer); await running })
  }
}, { name: 'retention', dependencies: ['db'] })

/**
 * Retention of raw results (docs/operations.md): rows measured before the cutoff are deleted in
 * small batches, each its own short transaction, so ingest commits between them. Only the
 * results go: the report rollups were built when the rows arrived and stay as they are, so
 * reports over old months are unchanged. Yields to the event loop between batches.
 */
export async function applyRetention (results: Pick<ResultStore, 'deleteResultsBefore'>, cutoffMs: number, batchRows: number): Promise<number> {
  let total = 0
  for (;;) {
    const n = await results.deleteResultsBefore(cutoffMs, batchRows)
    total += n
    if (n < batchRows) return total
    await new Promise((resolve) => setImmediate(resolve))
  }
}
