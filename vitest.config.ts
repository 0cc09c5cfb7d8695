import { defineConfig } from 'vitest/config'

/**
 * One private PostgreSQL server per project run, with a migrated template database that the
 * PostgreSQL store's tests copy (test/helpers/postgres.ts); stopped when the run ends. Only the
 * projects whose tests use a store start one.
 */
const POSTGRES = ['test/setup/postgres.ts']

/** Tests that measure real transfers and assert their flags and accuracy (docs/methodology.md). */
const MEASURING = ['test/integration/flag-faults.test.ts', 'test/integration/cross-traffic.test.ts', 'test/integration/speedtest-engine.test.ts']

export default defineConfig({
  test: {
    // Network tests bind real loopback servers and spawn real processes; one file at a
    // time per worker keeps port-0 servers and child processes from starving the 2 cores.
    pool: 'forks',
    // On CI also write a JSON report, from which .ci/run prints a plain "N passed, N failed" line.
    reporters: process.env.CI === 'true' ? ['default', 'json'] : ['default'],
    outputFile: { json: 'test-results/vitest.json' },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', globalSetup: POSTGRES, include: ['test/shared/**/*.test.ts', 'test/agent/**/*.test.ts', 'test/collector/**/*.test.ts'] }
      },
      {
        extends: true,
        test: {
          name: 'integration',
          globalSetup: POSTGRES,
          include: ['test/integration/**/*.test.ts', 'test/fault/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          exclude: MEASURING,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false
        }
      },
      {
        extends: true,
        test: {
          // Last and alone (groupOrder 1 runs after every project of group 0 has finished):
          // these tests assert that a clean path gets no flag, and the agent rightly flags a
          // test its own machine limited (client_limited, unstable), so nothing else of the
          // suite may compete with them for the two cores.
          name: 'measurement',
          include: MEASURING,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 }
        }
      },
      {
        extends: true,
        test: {
          // Builds the packages once (test/packaging/packages.ts) and installs the .deb into
          // a throw-away Debian root; one file at a time.
          name: 'packaging',
          include: ['test/packaging/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 900_000,
          fileParallelism: false
        }
      }
    ]
  }
})
