/**
 * The folder rules of docs/architecture.md, checked on every import of every source file:
 * static imports, re-exports, `import()` calls and `import('…')` types. ESLint's
 * no-restricted-imports sees only the static ones.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, extname, join, relative, resolve, sep } from 'node:path'
import ts from 'typescript'

export interface ImportEdge { from: string, specifier: string, line: number }
export interface Violation extends ImportEdge { rule: string }

const DIRS = ['agent', 'collector', 'shared', 'scripts', 'packaging', 'bench', 'test']
const SKIP = new Set(['node_modules', 'dist', 'vendor', 'build'])
/** Libraries that do I/O: shared/ holds pure code only. */
const IO_LIBRARIES = ['fastify', 'undici', 'pino', 'better-sqlite3', 'ws']

/** Every module specifier one file imports, with its line. */
export function importsOf (file: string, source: string): ImportEdge[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, false, file.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS)
  const out: ImportEdge[] = []
  const add = (node: ts.Node, spec: ts.Expression | undefined): void => {
    if (spec !== undefined && ts.isStringLiteralLike(spec)) out.push({ from: file, specifier: spec.text, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1 })
  }
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node, node.moduleSpecifier)
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node, node.arguments[0])
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, node.argument.literal)
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return out
}

/** Top folder (and for test/, its sub-folder) an import lands in; null for a package. */
function landsIn (root: string, edge: ImportEdge): string | null {
  if (!edge.specifier.startsWith('.')) return null
  return relative(root, resolve(root, dirname(edge.from), edge.specifier)).split(sep).join('/')
}

/** The rules; an empty list means every import keeps them. */
export function checkImports (root: string, edges: readonly ImportEdge[]): Violation[] {
  const out: Violation[] = []
  for (const e of edges) {
    const from = e.from.split(sep).join('/')
    const top = from.split('/')[0]
    const to = landsIn(root, e)
    const toTop = to?.split('/')[0]
    const bad = (rule: string): void => { out.push({ ...e, rule }) }
    if (to !== null && to.startsWith('..')) bad('imports from outside the repository')
    if (top === 'shared' && (toTop === 'agent' || toTop === 'collector')) bad('shared/ imports neither agent/ nor collector/')
    if (top === 'shared' && to === null && IO_LIBRARIES.some((l) => e.specifier === l || e.specifier.startsWith(`${l}/`))) bad('shared/ holds pure code: no I/O library')
    if (top === 'agent' && toTop === 'collector') bad('agent/ never imports collector/ (put the contract in shared/)')
    if (top === 'collector' && toTop === 'agent') bad('collector/ never imports agent/ (put the contract in shared/)')
    if (top === 'test' && toTop === 'bench') bad('tests never import bench/ (shared fixtures live in test/fixtures/)')
    if (top === 'bench' && toTop === 'test' && to?.startsWith('test/fixtures/') !== true) bad('bench/ imports only test/fixtures/ from test/')
    if (['agent', 'collector', 'shared', 'scripts', 'packaging'].includes(top ?? '') && (toTop === 'test' || toTop === 'bench')) bad('product code never imports test/ or bench/')
  }
  return out
}

function walk (dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name) || name.startsWith('.')) continue
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p, out)
    else if (['.ts', '.js', '.mjs'].includes(extname(name)) && !name.endsWith('.d.ts')) out.push(p)
  }
}

/** Every import of every source file of the repository. */
export function repositoryImports (root: string): ImportEdge[] {
  const files: string[] = []
  for (const d of DIRS) walk(join(root, d), files)
  return files.flatMap((f) => importsOf(relative(root, f), readFileSync(f, 'utf8')))
}

/** The repository file an edge's relative specifier names (`.js` written for a `.ts` source). */
function target (root: string, edge: ImportEdge): string | null {
  const to = landsIn(root, edge)
  if (to === null) return null
  return to.endsWith('.js') && !existsSync(join(root, to)) ? to.replace(/\.js$/, '.ts') : to
}

/**
 * Import cycles: groups of modules that import themselves through others (Tarjan's strongly
 * connected components), and pairs of folders of the agent or the collector that import each
 * other (`collector/reports` → `collector/aggregation` → `collector/reports`), which
 * docs/architecture.md rules out even when no single module closes a loop.
 */
export function importCycles (root: string, edges: readonly ImportEdge[]): { modules: string[][], folders: string[] } {
  const graph = new Map<string, Set<string>>()
  for (const e of edges) {
    const to = target(root, e)
    if (to === null) continue
    const from = e.from.split(sep).join('/')
    if (!graph.has(from)) graph.set(from, new Set())
    graph.get(from)?.add(to)
  }
  const modules: string[][] = []
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const visit = (v: string): void => {
    index.set(v, index.size)
    low.set(v, index.get(v) as number)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v) as number, low.get(w) as number)) } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number))
    }
    if (low.get(v) !== index.get(v)) return
    const group: string[] = []
    let w: string | undefined
    do { w = stack.pop(); if (w !== undefined) { onStack.delete(w); group.push(w) } } while (w !== undefined && w !== v)
    if (group.length > 1) modules.push(group.sort())
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)

  // Folder level: the second path segment under agent/ and collector/ (files at their top are
  // the wiring, app.ts and agent.ts, which may import every folder).
  const folderOf = (f: string): string | null => {
    const parts = f.split('/')
    return (parts[0] === 'agent' || parts[0] === 'collector') && parts.length > 2 ? `${parts[0]}/${parts[1]}` : null
  }
  const folderEdges = new Map<string, Set<string>>()
  for (const [from, tos] of graph) {
    const a = folderOf(from)
    for (const to of tos) {
      const b = folderOf(to)
      if (a === null || b === null || a === b) continue
      if (!folderEdges.has(a)) folderEdges.set(a, new Set())
      folderEdges.get(a)?.add(b)
    }
  }
  const folders: string[] = []
  for (const [a, bs] of folderEdges) for (const b of bs) if (a < b && folderEdges.get(b)?.has(a) === true) folders.push(`${a} ↔ ${b}`)
  return { modules, folders: folders.sort() }
}
