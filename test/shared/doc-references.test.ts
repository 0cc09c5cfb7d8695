import { fileURLToPath } from 'node:url'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkReferences, citingFiles, docNamesOf, referencesIn, referencesOfFile, sectionsOf } from '../helpers/doc-references.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '')
const SELF = 'test/shared/doc-references.test.ts'
const docNames = docNamesOf(ROOT)

/** Runs one made-up source file through the same checker the repository goes through. */
function check (file: string, source: string): string[] {
  return checkReferences(ROOT, referencesOfFile(ROOT, file, source, docNames)).map((b) => `${b.target}: ${b.problem}`)
}

describe('document references', () => {
  it('every document cited in code comments, help strings and Markdown is in the repository, with the cited section', () => {
    const refs = citingFiles(ROOT, [SELF]).flatMap((file) => referencesOfFile(ROOT, file, readFileSync(join(ROOT, file), 'utf8'), docNames))
    // The design documents are cited throughout; an empty scan would pass vacuously.
    expect(refs.filter((r) => r.target.endsWith('methodology.md')).length).toBeGreaterThan(40)
    const broken = checkReferences(ROOT, refs).map((b) => `${b.file}:${b.line} cites ${b.target}${b.sections.length > 0 ? ` §${b.sections.join(', §')}` : ''}: ${b.problem}`)
    expect(broken).toEqual([])
  })

  it('fails on a document that is not in the repository, a missing section and a path outside it', () => {
    const source = [
      '/** Gate before a test (methodology.md §4 phase 0, §99 nothing). */',
      "program.option('--x', 'see docs/no-such-guide.md')",
      '// Layout as in style.md and ../../../shared/docs/domain.md §7.',
      'const ok = 1 // fleet-protocol.md §9, domain.md §7.4'
    ].join('\n')
    expect(check('agent/example.ts', source)).toEqual([
      'methodology.md: docs/methodology.md has no section 99',
      'docs/no-such-guide.md: no such document (looked for docs/no-such-guide.md)',
      'style.md: no such document (looked for docs/style.md)',
      '../../../shared/docs/domain.md: points outside the repository'
    ])
  })

  it('reads a § after another source as that source\'s, and a file of another repository as a citation of it', () => {
    expect(referencesIn('(fleet-protocol.md §10; RFC 7594 §6.2.3 warns of a mass calling event)')).toEqual([
      { target: 'fleet-protocol.md', sections: ['10'], offset: 1 }
    ])
    expect(referencesIn('ndt7 (m-lab/ndt-server spec/ndt7-protocol.md, v0.9.x)')).toEqual([])
    expect(referencesIn('see https://github.com/m-lab/ndt-server/blob/main/spec/ndt7-protocol.md')).toEqual([])
    expect(referencesIn('early stop (methodology §7.5)', new Set(['methodology']))).toEqual([
      { target: 'methodology.md', sections: ['7.5'], offset: 12 }
    ])
    expect(check('collector/x.ts', "const s = 'methodology §77'")).toEqual(['methodology.md: docs/methodology.md has no section 77'])
  })

  it('reads a bare § in a document as a section of that document', () => {
    expect(check('docs/domain.md', 'The seed provinces are in §7.3; see also §77.')).toEqual(['domain.md: docs/domain.md has no section 77'])
  })

  it('numbers sections by their headings', () => {
    expect([...sectionsOf('# Title\n## 7. Warm-up\n### 7.5 Early stop\n## Notes\n#### 12 Bare')]).toEqual(['7', '7.5', '12'])
  })
})
