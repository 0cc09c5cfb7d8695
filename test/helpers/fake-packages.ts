import { createHash, randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import type { PackageManifest } from '../../collector/downloads/packages.js'

/**
 * A packages directory in the layout `npm run package` writes (manifest.json, SHA256SUMS,
 * the packages), for tests of the collector's /install and /downloads. The zip and .deb hold
 * random bytes; the tarball is a real tar.gz whose install.sh records the arguments it was
 * given in $TOCDO_TEST_RECORD, so the Linux one-liner can be run end to end.
 */
export function fakePackagesDir (version = '0.2.0'): { dir: string, manifest: PackageManifest } {
  const dir = mkdtempSync(join(tmpdir(), 'tocdo-packages-'))
  const stage = mkdtempSync(join(tmpdir(), 'tocdo-tarball-'))
  const root = join(stage, `tocdo-agent-${version}-linux-x64`)
  mkdirSync(root)
  writeFileSync(join(root, 'install.sh'), '#!/bin/sh\nset -eu\nprintf \'%s\\n\' "tarball install.sh" "$@" > "$TOCDO_TEST_RECORD"\n')
  chmodSync(join(root, 'install.sh'), 0o755)
  const tarball = `tocdo-agent-${version}-linux-x64.tar.gz`
  execFileSync('tar', ['-czf', join(dir, tarball), '-C', stage, `tocdo-agent-${version}-linux-x64`])
  const zip = `tocdo-agent-${version}-win-x64.zip`
  const deb = `tocdo-agent_${version}_amd64.deb`
  writeFileSync(join(dir, zip), randomBytes(300_000))
  writeFileSync(join(dir, deb), randomBytes(200_000))
  const entry = (name: string, os: string, arch: string, kind: string): PackageManifest['files'][number] => {
    const bytes = execFileSync('cat', [join(dir, name)])
    return { name, os, arch, kind, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length }
  }
  const manifest: PackageManifest = {
    version,
    files: [entry(zip, 'win', 'x64', 'zip'), entry(deb, 'linux', 'amd64', 'deb'), entry(tarball, 'linux', 'x64', 'tar.gz')]
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2))
  writeFileSync(join(dir, 'SHA256SUMS'), manifest.files.map((f) => `${f.sha256}  ${f.name}\n`).join(''))
  return { dir, manifest }
}
