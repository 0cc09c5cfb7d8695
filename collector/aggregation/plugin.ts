import fp from 'fastify-plugin'

/**
 * Keeps the report rollups current: a start-up job rebuilds them once when the stored ones were
 * built by an older definition (or predate migration 020). From then on the result store updates
 * them inside every ingest transaction, so a result and its rollup commit or roll back together.
 */
export default fp(async (fastify) => {
  const started = Date.now()
  const { rebuiltRows } = await fastify.stores.results.ensureRollups()
  if (rebuiltRows !== null) fastify.log.info({ rows: rebuiltRows, ms: Date.now() - started }, 'report rollups rebuilt from the result table')
}, { name: 'report-rollups', dependencies: ['db'] })
