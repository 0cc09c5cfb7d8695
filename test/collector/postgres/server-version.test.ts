import { describe, expect, inject, it } from 'vitest'
import { createPool } from '../../../collector/storage/postgres/pool.js'

/**
 * The run's PostgreSQL server is the one asked for: Debian's (15 here) by default, or the major
 * CI names in TOCDO_TEST_POSTGRES_MAJOR when it runs the store contract suite again on binaries
 * of another major (test/setup/postgres-binaries.ts, .ci/run). A run that silently fell back to
 * another server fails here.
 */
describe('PostgreSQL server under test', () => {
  it('answers with the major version the run asked for', async () => {
    const pool = createPool(inject('postgresUrl'), { max: 1 })
    try {
      const { rows } = await pool.query<{ v: number }>("SELECT current_setting('server_version_num')::int AS v")
      const major = Math.floor((rows[0]?.v ?? 0) / 10_000)
      expect(major).toBe(inject('postgresVersion'))
      const asked = process.env.TOCDO_TEST_POSTGRES_MAJOR ?? ''
      if (asked !== '') expect(major).toBe(Number(asked))
      else expect(major).toBeGreaterThanOrEqual(15)
    } finally {
      await pool.end()
    }
  })
})
