import fp from 'fastify-plugin'
import { enableMonthCache } from './month-cache.js'
import { RollupWriter, markRollupsCurrent, rebuildRollups, rollupsCurrent, type RollupInput } from './rollup.js'

/**
 * Keeps the report rollups current: rebuilds them once when the stored ones were built by an
 * older definition (or predate migration 020), then updates them inside every ingest
 * transaction, so a result and its rollup commit or roll back together.
 */
export default fp(async (fastify) => {
  const db = fastify.db
  if (!rollupsCurrent(db)) {
    const hasResults = db.prepare('SELECT 1 FROM result LIMIT 1').get() !== undefined
    if (hasResults) {
      const started = Date.now()
      const { rows } = rebuildRollups(db)
      fastify.log.info({ rows, ms: Date.now() - started }, 'report rollups rebuilt from the result table')
    } else {
      markRollupsCurrent(db)
    }
  }
  enableMonthCache(db)
  const writer = new RollupWriter(db)
  fastify.ingestor.onAccepted((rows) => { writer.apply(rows as unknown as RollupInput[]) })
}, { name: 'report-rollups', dependencies: ['db'] })
