import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The package root, found by walking up to package.json, so the same code finds seeds/
 * whether it runs from TypeScript sources (tests) or from dist/ (the installed bins).
 */
export function packageRoot (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'seeds'))) return dir
    const parent = dirname(dir)
    if (parent === dir) throw new Error('tocdo package root not found (no package.json with seeds/ above this module)')
    dir = parent
  }
}

export function seedsDir (): string {
  return join(packageRoot(), 'seeds')
}
