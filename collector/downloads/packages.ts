import { Type, type Static } from '@sinclair/typebox'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { compileValidator } from '../../shared/schemas/validate.js'

/**
 * The agent packages this collector serves (docs/agent.md): what `npm run package` writes to
 * dist/packages — the packages, SHA256SUMS and manifest.json. Each file's SHA-256 is checked
 * against the manifest when the manifest changes (hashed once per file version), so a page
 * never shows a digest the file does not have.
 */
export const PackageFile = Type.Object({
  name: Type.String({ pattern: '^[A-Za-z0-9._+-]+$', maxLength: 200 }),
  os: Type.String({ maxLength: 20 }),
  arch: Type.String({ maxLength: 20 }),
  kind: Type.String({ maxLength: 20 }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  bytes: Type.Integer({ minimum: 0 })
})
export type PackageFile = Static<typeof PackageFile>
export const PackageManifest = Type.Object({ version: Type.String({ maxLength: 40 }), files: Type.Array(PackageFile, { maxItems: 100 }) })
export type PackageManifest = Static<typeof PackageManifest>

const validator = compileValidator(PackageManifest)

export const MANIFEST_FILE = 'manifest.json'
export const SUMS_FILE = 'SHA256SUMS'

export type Shelf =
  | { ok: true, dir: string, manifest: PackageManifest, files: Map<string, PackageFile> }
  | { ok: false, dir: string, problem: string }

export async function sha256File (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

export const NOT_BUILT = (dir: string): string =>
  `no agent packages on this collector: ${join(dir, MANIFEST_FILE)} is missing. Build them with "npm run package" (they go to dist/packages) or set TOCDO_PACKAGES_DIR to the folder that holds manifest.json`

export class PackageShelf {
  readonly dir: string
  #cache: { key: string, shelf: Shelf } | null = null
  readonly #digests = new Map<string, { key: string, sha256: string }>()

  constructor (dir: string) { this.dir = dir }

  /** The manifest with every file checked; re-read only when manifest.json changes. */
  async load (): Promise<Shelf> {
    const manifestPath = join(this.dir, MANIFEST_FILE)
    let key: string
    try { const s = await stat(manifestPath); key = `${s.mtimeMs}:${s.size}` } catch { return { ok: false, dir: this.dir, problem: NOT_BUILT(this.dir) } }
    if (this.#cache?.key === key) return this.#cache.shelf
    const shelf = await this.#read(manifestPath)
    this.#cache = { key, shelf }
    return shelf
  }

  async #read (manifestPath: string): Promise<Shelf> {
    let parsed: unknown
    try { parsed = JSON.parse(await readFile(manifestPath, 'utf8')) } catch (err) {
      return { ok: false, dir: this.dir, problem: `${manifestPath} is not JSON (${(err as Error).message}); rebuild the packages with "npm run package"` }
    }
    if (!validator.check(parsed)) {
      const e = validator.errors(parsed, 3).map((x) => `${x.field}: ${x.message}`).join('; ')
      return { ok: false, dir: this.dir, problem: `${manifestPath} does not match the manifest format ({version, files:[{name, os, arch, kind, sha256, bytes}]}): ${e}` }
    }
    const files = new Map<string, PackageFile>()
    const problems: string[] = []
    for (const f of parsed.files) {
      const path = join(this.dir, basename(f.name))
      try {
        const s = await stat(path)
        const fileKey = `${s.mtimeMs}:${s.size}`
        let digest = this.#digests.get(f.name)
        if (digest?.key !== fileKey) { digest = { key: fileKey, sha256: await sha256File(path) }; this.#digests.set(f.name, digest) }
        if (digest.sha256 !== f.sha256 || s.size !== f.bytes) problems.push(`${f.name} does not match its manifest entry (sha256 ${digest.sha256}, ${s.size} bytes)`)
        else files.set(f.name, f)
      } catch { problems.push(`${f.name} is listed but missing`) }
    }
    if (problems.length > 0) return { ok: false, dir: this.dir, problem: `the packages in ${this.dir} are inconsistent: ${problems.join('; ')}; rebuild them with "npm run package"` }
    return { ok: true, dir: this.dir, manifest: parsed, files }
  }
}

/** The file an installer for `os`/`arch` of the given kind needs, if built. */
export function pick (manifest: PackageManifest, os: string, arch: string, kind: string): PackageFile | null {
  return manifest.files.find((f) => f.os === os && f.arch === arch && f.kind === kind) ??
    manifest.files.find((f) => f.os === os && f.arch === arch && f.name.endsWith(`.${kind}`)) ?? null
}

/** The Windows zip: by manifest fields, else by its documented name (tocdo-agent-<v>-win-x64.zip). */
export function windowsZip (manifest: PackageManifest): PackageFile | null {
  return manifest.files.find((f) => /^win/.test(f.os) && f.name.endsWith('.zip')) ?? null
}

export function debFor (manifest: PackageManifest, debArch: 'amd64' | 'arm64'): PackageFile | null {
  return manifest.files.find((f) => f.name.endsWith(`_${debArch}.deb`)) ?? null
}

export function tarballFor (manifest: PackageManifest, arch: 'x64' | 'arm64'): PackageFile | null {
  return manifest.files.find((f) => f.name.endsWith(`-linux-${arch}.tar.gz`)) ?? null
}

export const CONTENT_TYPES: Array<[RegExp, string]> = [
  [/\.zip$/, 'application/zip'],
  [/\.deb$/, 'application/vnd.debian.binary-package'],
  [/\.tar\.gz$|\.tgz$/, 'application/gzip'],
  [/\.json$/, 'application/json; charset=utf-8'],
  [/SHA256SUMS$|\.txt$|\.sh$/, 'text/plain; charset=utf-8']
]

export const contentTypeOf = (name: string): string => CONTENT_TYPES.find(([re]) => re.test(name))?.[1] ?? 'application/octet-stream'
