import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { checkImports, importCycles, importsOf, repositoryImports } from '../helpers/import-boundaries.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '')

describe('import boundaries (docs/architecture.md)', () => {
  it('agent/ and collector/ never import each other, shared/ imports neither, tests never import bench/', () => {
    const edges = repositoryImports(ROOT)
    // A scan that found nothing would pass vacuously.
    expect(edges.filter((e) => e.from.startsWith('collector/')).length).toBeGreaterThan(200)
    expect(checkImports(ROOT, edges).map((v) => `${v.from}:${v.line} imports ${v.specifier}: ${v.rule}`)).toEqual([])
  })

  it('catches each rule, dynamic imports and type imports included', () => {
    const file = (from: string, source: string) => importsOf(from, source)
    const edges = [
      ...file('agent/x.ts', "const m = await import('../collector/app.js')"),
      ...file('collector/x.ts', "export { a } from '../agent/config.js'"),
      ...file('shared/x.ts', "import pino from 'pino'\ntype T = import('../agent/tasks.js').TaskSpec"),
      ...file('test/agent/x.test.ts', "import { latencyRecord } from '../../bench/ingest/records.js'"),
      ...file('bench/ingest/x.ts', "import { startTempCollector } from '../../test/helpers/temp-collector.js'\nimport { latencyRecord } from '../../test/fixtures/records.js'")
    ]
    expect(checkImports(ROOT, edges).map((v) => `${v.from}:${v.line} ${v.specifier}`)).toEqual([
      'agent/x.ts:1 ../collector/app.js',
      'collector/x.ts:1 ../agent/config.js',
      'shared/x.ts:1 pino',
      'shared/x.ts:2 ../agent/tasks.js',
      'test/agent/x.test.ts:1 ../../bench/ingest/records.js',
      'bench/ingest/x.ts:1 ../../test/helpers/temp-collector.js'
    ])
  })

  it('no module imports itself through others, and no two folders of the agent or the collector import each other', () => {
    const cycles = importCycles(ROOT, repositoryImports(ROOT))
    expect(cycles.modules).toEqual([])
    expect(cycles.folders).toEqual([])
  })

  it('finds a module cycle and a folder cycle', () => {
    const edges = [
      ...importsOf('collector/reports/a.ts', "import { b } from './b.js'"),
      ...importsOf('collector/reports/b.ts', "import type { A } from './a.js'"),
      ...importsOf('collector/aggregation/c.ts', "import { d } from '../ingest/d.js'"),
      ...importsOf('collector/ingest/e.ts', "import { c } from '../aggregation/c.js'"),
      ...importsOf('collector/app.ts', "import { a } from './reports/a.js'"),
      ...importsOf('collector/reports/f.ts', "import { g } from '../app.js'")
    ]
    expect(importCycles(ROOT, edges)).toEqual({
      modules: [['collector/reports/a.ts', 'collector/reports/b.ts']],
      folders: ['collector/aggregation ↔ collector/ingest']
    })
  })
})
