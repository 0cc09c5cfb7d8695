import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**', 'bench/**/build/**', 'collector/dashboard/vendor/**', '.cache/**'] }),
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // TypeBox's idiom names a schema and its static type alike (const X = Type.Object(...);
      // type X = Static<typeof X>); TypeScript itself rejects real redeclarations.
      '@typescript-eslint/no-redeclare': 'off',
      // `void reply.send()` marks a promise we deliberately do not await.
      'no-void': ['error', { allowAsStatement: true }]
    }
  },
  {
    // agent/ and collector/ are separate programs joined only by shared/ contracts.
    files: ['agent/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/collector/**'], message: 'agent/ must not import collector/; put the contract in shared/.' }] }] }
  },
  {
    files: ['collector/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/agent/**'], message: 'collector/ must not import agent/; put the contract in shared/.' }] }] }
  },
  {
    // The storage boundary (docs/storage.md): only collector/storage/ knows the database.
    files: ['collector/**/*.ts'],
    ignores: ['collector/storage/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: ['better-sqlite3', 'pg', 'node:sqlite'].map((name) => ({ name, message: 'database drivers live under collector/storage/ only; use the stores (storage/stores.ts).' })),
        patterns: [
          { group: ['**/agent/**'], message: 'collector/ must not import agent/; put the contract in shared/.' },
          { group: ['**/storage/sqlite/**', '**/storage/postgres/**', '**/storage/db.js', '**/storage/migrations/**'], message: 'a backend is reached only through the stores (storage/stores.ts) and storage/index.ts.' }
        ]
      }]
    }
  },
  {
    // Shared fixtures have one home, test/fixtures/, and the arrow points one way (docs/architecture.md).
    files: ['test/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/bench/**'], message: 'tests never import bench/; put what both use in test/fixtures/.' }] }] }
  },
  {
    files: ['bench/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '(^|/)test/(?!fixtures/)', message: 'bench/ imports only test/fixtures/ from test/.' }] }] }
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/agent/**', '**/collector/**'], message: 'shared/ is pure contracts and code.' }],
        paths: ['fastify', 'undici', 'pino', 'better-sqlite3', 'ws'].map((name) => ({ name, message: 'shared/ holds pure code only, no I/O libraries.' }))
      }]
    }
  }
]
