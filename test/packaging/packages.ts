import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildPackages, OUT, type Manifest } from '../../packaging/build.js'
import { ROOT } from '../../packaging/node-sources.js'

/** Everything a package is made from; a change to any of it means a new build. */
const INPUTS = ['agent', 'shared', 'packaging', 'package-lock.json']

function hashInputs (): string {
  const h = createHash('sha256')
  const walk = (rel: string): void => {
    const abs = join(ROOT, rel)
    if (statSync(abs).isDirectory()) {
      for (const name of readdirSync(abs).sort()) walk(`${rel}/${name}`)
    } else {
      h.update(rel).update('\0').update(readFileSync(abs)).update('\0')
    }
  }
  for (const i of INPUTS) walk(i)
  return h.digest('hex')
}

/**
 * The packages for this test run: built by `npm run package`'s own code once per change of
 * its inputs (a stamp in dist/packages records their digest), so the packaging test files
 * share one build.
 */
export async function ensurePackages (): Promise<Manifest> {
  const stamp = join(OUT, '.inputs-sha256')
  const digest = hashInputs()
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest && existsSync(join(OUT, 'manifest.json'))) {
    return JSON.parse(readFileSync(join(OUT, 'manifest.json'), 'utf8')) as Manifest
  }
  const manifest = await buildPackages()
  writeFileSync(stamp, digest)
  return manifest
}

export const packagePath = (manifest: Manifest, kind: string, arch = 'x64'): string => {
  const f = manifest.files.find((x) => x.kind === kind && x.arch === arch)
  if (f === undefined) throw new Error(`no ${kind} ${arch} package in the manifest`)
  return join(OUT, f.name)
}
