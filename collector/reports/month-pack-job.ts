import fp from 'fastify-plugin'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type { Leadership, RollupReader } from '../storage/stores.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Builds every missing month pack now (the job's own run); resolves with how many were built. */
    buildMonthPacks: (now?: number) => Promise<number>
  }
}

/**
 * Builds the month packs a store is missing (closed months of a province; a store without packs
 * never reports one missing), one pack per transaction, yielding to the event loop between
 * them so ingest and reports keep their turn. Reports only read: until its pack is built a
 * month is read from its rows, with the same figures.
 */
export async function buildMonthPacks (reader: RollupReader, now: number, stopped: () => boolean = () => false): Promise<number> {
  let built = 0
  for (const key of await reader.monthPacksMissing(now)) {
    if (stopped()) break
    if (await reader.buildMonthPack(key, now)) built++
    await yieldToEventLoop()
  }
  return built
}

/**
 * The month-pack job: once at start-up, then every `everyMs` (late results drop their month's
 * packs, and each new month closes one), and on demand through `fastify.buildMonthPacks`. Its
 * scheduled runs happen only while this collector leads the fleet's once-only work
 * (`leadership`; always with SQLite), and once more when it takes over.
 */
export default fp<{ everyMs: number, leadership?: Leadership }>(async (fastify, { everyMs, leadership }) => {
  let running: Promise<number> | null = null
  let closing = false
  const run = async (now = Date.now()): Promise<number> => {
    running ??= buildMonthPacks(fastify.stores.rollups, now, () => closing).then((built) => {
      if (built > 0) fastify.log.info({ built }, 'month packs built')
      return built
    }).finally(() => { running = null })
    return await running
  }
  fastify.decorate('buildMonthPacks', run)
  let timer: NodeJS.Timeout | null = null
  fastify.addHook('onReady', async () => {
    const tick = (delay: number): void => {
      timer = setTimeout(() => { (leadership?.leads === false ? Promise.resolve(0) : run()).catch((err: unknown) => { fastify.log.error({ err }, 'month packs failed') }).finally(() => { if (!closing) tick(everyMs) }) }, delay)
      timer.unref()
    }
    tick(0)
    // A follower that takes over builds what the old leader left at once, not at its next tick.
    // (onLead calls at once when leading already: that call is the tick just set.)
    let skip = leadership?.leads === true
    leadership?.onLead(() => {
      if (skip) { skip = false; return }
      if (!closing) run().catch((err: unknown) => { fastify.log.error({ err }, 'month packs failed') })
    })
  })
  fastify.addHook('preClose', async () => {
    closing = true
    if (timer !== null) clearTimeout(timer)
    await running
  })
}, { name: 'month-pack-job', dependencies: ['db'] })
