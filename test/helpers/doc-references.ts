/**
 * Finds the document references in the project's comments, help strings and Markdown
 * ("methodology.md §4", "docs/fleet.md", a README beside the citing file) and checks that
 * each names a file inside the repository and, where a § number is given, a numbered heading
 * of that file. Comments and strings come from the TypeScript parser, so code that merely
 * looks like a reference (a regular expression, a property) is not mistaken for one.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path'
import ts from 'typescript'

export interface Reference {
  /** Repository-relative path of the citing file */
  file: string
  line: number
  /** The document as written, e.g. "methodology.md" or "../../docs/errors.md" */
  target: string
  /** The § numbers cited for it, e.g. ["4", "7.5"] */
  sections: string[]
}

export interface BrokenReference extends Reference {
  problem: string
}

/** Folders whose code, comments and help strings may cite documents. */
export const SOURCE_DIRS = ['agent', 'collector', 'shared', 'scripts', 'packaging', 'bench', 'test']
const SKIP_DIRS = new Set(['node_modules', 'dist', 'vendor', 'build', 'coverage', 'test-results'])
const CODE_EXT = new Set(['.ts', '.js', '.mjs', '.cjs'])
const TEXT_EXT = new Set(['.sh', '.c', '.html', '.css', '.md', '.json'])

const MD_REF = /(?<![\w.\-/])((?:\.{1,2}\/)*(?:[\w-]+\/)*[\w.-]+\.md)(?![\w-])/g
const URL = /\bhttps?:\/\/\S+/g
// "owner/repo path/to/spec.md": a file in another repository, cited as a source.
const OTHER_REPO_BEFORE = /[\w.-]+\/[\w.-]+\s+$/
const SECTION = /§\s?(\d+(?:\.\d+)*)/g
// A § number belongs to the document just cited when only a short gloss separates them
// ("methodology.md §4 phase 0, §11", "§6–§8", "domain.md §6.1, fleet-protocol.md §14").
const MAX_GAP = 40
const GLOSS = /\b(?:phase|step) \d+\b/g
// "RFC 9110 §6.6.1", "Art. 15(4) §2": a § right after a numbered source is that source's.
const OTHER_SOURCE_BEFORE = /(?:\S*\d\S*|RFC|Art\.?|Điều|section|spec|draft)\s*$/

/** The numbers of a Markdown file's numbered headings: "## 7. Warm-up" → "7", "### 7.5 Early stop" → "7.5". */
export function sectionsOf (markdown: string): Set<string> {
  const out = new Set<string>()
  for (const m of markdown.matchAll(/^#{1,6}\s+(?:§\s?)?(\d+(?:\.\d+)*)\.?\s/gm)) out.add(m[1]!)
  return out
}

/**
 * Document references in one piece of prose (a comment, a string, a Markdown file). A § that
 * follows no document reference cites `self` when given (a Markdown file citing its own
 * sections) and is otherwise left alone.
 */
export function referencesIn (text: string, docNames: ReadonlySet<string> = new Set(), self?: string): Array<{ target: string, sections: string[], offset: number }> {
  const prose = text.replace(URL, (u) => ' '.repeat(u.length))
  const found: Array<{ target: string, sections: string[], offset: number, end: number }> = []
  for (const m of prose.matchAll(MD_REF)) {
    const target = m[1]!
    if (OTHER_REPO_BEFORE.test(prose.slice(Math.max(0, m.index - 80), m.index)) && target.includes('/')) continue
    found.push({ target, sections: [], offset: m.index, end: m.index + m[0].length })
  }
  // "methodology §7.5": a document of docs/ named without its extension.
  for (const m of prose.matchAll(/(?<![\w.\-/])([a-z][\w-]*)(?=\s+§\s?\d)/g)) {
    if (docNames.has(m[1]!)) found.push({ target: `${m[1]!}.md`, sections: [], offset: m.index, end: m.index + m[0].length })
  }
  found.sort((a, b) => a.offset - b.offset)
  const own = { target: self ?? '', sections: [] as string[], offset: 0, end: 0 }
  let last: { ref: typeof own, end: number } | null = null
  for (const s of prose.matchAll(SECTION)) {
    const start = s.index
    const end = start + s[0].length
    const latest = found.filter((r) => r.end <= start).at(-1)
    if (latest !== undefined && (last === null || latest.end > last.end)) last = { ref: latest, end: latest.end }
    const before = prose.slice(Math.max(0, start - 24), start).replace(GLOSS, '').replace(SECTION, '')
    if (!/\.md\s*$/.test(before) && OTHER_SOURCE_BEFORE.test(before)) continue
    const gap = last === null ? null : prose.slice(last.end, start)
    const chained = gap !== null && gap.length <= MAX_GAP && !/\)|\.\s|\n\s*\n/.test(gap) && !/\d/.test(gap.replace(GLOSS, ''))
    if (chained && last !== null) {
      last.ref.sections.push(s[1]!)
      last.end = end
    } else if (self !== undefined) {
      own.sections.push(s[1]!)
    }
  }
  const out = found.map(({ target, sections, offset }) => ({ target, sections, offset }))
  if (self !== undefined && own.sections.length > 0) out.push({ target: self, sections: own.sections, offset: 0 })
  return out
}

/** Where a reference written in `fromFile` points, or null when no such file is in the repository. */
export function resolveTarget (root: string, fromFile: string, target: string): { path: string | null, outside: boolean } {
  const candidates = target.includes('/')
    ? [resolve(root, dirname(fromFile), target), resolve(root, target)]
    : [resolve(root, 'docs', target), resolve(root, dirname(fromFile), target), resolve(root, target)]
  const inside = candidates.filter((p) => p === root || p.startsWith(root + sep))
  const hit = inside.find((p) => existsSync(p) && statSync(p).isFile())
  return { path: hit ?? null, outside: inside.length === 0 }
}

/** Comments (joined across adjacent line comments, without their markers) and prose strings of one source file. */
export function proseOf (fileName: string, source: string): Array<{ text: string, pos: number }> {
  const kind = fileName.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, kind)
  const comments = new Map<number, ts.CommentRange>()
  const out: Array<{ text: string, pos: number }> = []
  const visit = (node: ts.Node): void => {
    for (const r of ts.getLeadingCommentRanges(source, node.pos) ?? []) comments.set(r.pos, r)
    for (const r of ts.getTrailingCommentRanges(source, node.end) ?? []) comments.set(r.pos, r)
    // Prose only: a string without a space is a name or a path the code uses, not a citation.
    if ((ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) && /\s/.test(node.text)) out.push({ text: node.text, pos: node.getStart(sf) })
    ts.forEachChild(node, visit)
  }
  visit(sf)
  visit(sf.endOfFileToken)
  const ranges = [...comments.values()].sort((a, b) => a.pos - b.pos)
  let current: { text: string, pos: number, end: number } | null = null
  for (const r of ranges) {
    const raw = source.slice(r.pos, r.end)
    const text = r.kind === ts.SyntaxKind.SingleLineCommentTrivia
      ? raw.replace(/^\/\/+\s?/, '')
      : raw.replace(/^\/\*+/, '').replace(/\*+\/$/, '').split('\n').map((l) => l.replace(/^\s*\*?\s?/, '')).join('\n')
    const adjacentLine = current !== null && r.kind === ts.SyntaxKind.SingleLineCommentTrivia && /^\s*$/.test(source.slice(current.end, r.pos)) && source.slice(current.end, r.pos).split('\n').length === 2
    if (current !== null && adjacentLine) {
      current.text += '\n' + text
      current.end = r.end
    } else {
      if (current !== null) out.push({ text: current.text, pos: current.pos })
      current = { text, pos: r.pos, end: r.end }
    }
  }
  if (current !== null) out.push({ text: current.text, pos: current.pos })
  return out.sort((a, b) => a.pos - b.pos)
}

function lineAt (source: string, pos: number): number {
  let line = 1
  for (let i = 0; i < pos && i < source.length; i++) if (source.charCodeAt(i) === 10) line++
  return line
}

/** Every document reference in one file's prose: comments and strings of code, all of other text. */
export function referencesOfFile (root: string, file: string, source: string, docNames: ReadonlySet<string>): Reference[] {
  const code = CODE_EXT.has(extname(file))
  const pieces = code ? proseOf(file, source) : [{ text: source, pos: 0 }]
  // A Markdown file's bare "§7.3" is its own section 7.3.
  const self = extname(file) === '.md' ? basename(file) : undefined
  const refs: Reference[] = []
  for (const piece of pieces) {
    for (const r of referencesIn(piece.text, docNames, self)) {
      // Offsets inside a normalised comment are approximate; the line of the comment's start plus the line inside it is close enough to find it.
      const lineInPiece = piece.text.slice(0, r.offset).split('\n').length - 1
      refs.push({ file, line: lineAt(source, piece.pos) + lineInPiece, target: r.target, sections: r.sections })
    }
  }
  return refs
}

/** Checks references against the repository; an empty list means every one resolves. */
export function checkReferences (root: string, refs: readonly Reference[]): BrokenReference[] {
  const broken: BrokenReference[] = []
  const sectionCache = new Map<string, Set<string>>()
  for (const ref of refs) {
    const { path, outside } = resolveTarget(root, ref.file, ref.target)
    if (path === null) {
      broken.push({ ...ref, problem: outside ? 'points outside the repository' : `no such document (looked for ${ref.target.includes('/') ? ref.target : `docs/${ref.target}`})` })
      continue
    }
    if (ref.sections.length === 0) continue
    let sections = sectionCache.get(path)
    if (sections === undefined) {
      sections = sectionsOf(readFileSync(path, 'utf8'))
      sectionCache.set(path, sections)
    }
    for (const s of ref.sections) {
      if (!sections.has(s)) broken.push({ ...ref, problem: `${relative(root, path)} has no section ${s}` })
    }
  }
  return broken
}

function walk (dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name) || name.startsWith('.')) continue
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p, out)
    else if (CODE_EXT.has(extname(name)) || TEXT_EXT.has(extname(name))) out.push(p)
  }
}

/** The files whose references are checked: the source folders, docs/ and the top-level README. */
export function citingFiles (root: string, exclude: readonly string[] = []): string[] {
  const out: string[] = []
  for (const d of [...SOURCE_DIRS, 'docs', 'seeds']) if (existsSync(join(root, d))) walk(join(root, d), out)
  out.push(join(root, 'README.md'))
  return out.map((p) => relative(root, p)).filter((p) => !exclude.includes(p) && !p.endsWith('.json') && !p.startsWith(`seeds${sep}admin-units`))
}

/** Names of the documents in docs/, without ".md". */
export function docNamesOf (root: string): Set<string> {
  return new Set(readdirSync(join(root, 'docs')).filter((n) => n.endsWith('.md')).map((n) => n.slice(0, -3)))
}
