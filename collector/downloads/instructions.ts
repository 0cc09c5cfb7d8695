import type { InstallInstructions } from '../../shared/schemas/fleet.js'
import { windowsZip, type PackageManifest } from './packages.js'

/**
 * What an agency's IT person runs to install and enrol the agent, with this collector's
 * public URL filled in: printed by `agency add` (CLI and API) and shown on /install.
 */
export const base = (publicUrl: string): string => publicUrl.replace(/\/+$/, '')

export function linuxOneLiner (publicUrl: string, code: string): string {
  return `curl -fsSL ${base(publicUrl)}/install.sh | sudo sh -s -- --code ${code}`
}

export function installInstructions (publicUrl: string, manifest: PackageManifest | null, code: string, problem: string | null = null): InstallInstructions {
  const url = base(publicUrl)
  const zip = manifest === null ? null : windowsZip(manifest)
  const zipUrl = zip === null ? null : `${url}/downloads/${zip.name}`
  return {
    installPage: `${url}/install`,
    linuxCommand: linuxOneLiner(url, code),
    windows: {
      zipUrl,
      sha256: zip?.sha256 ?? null,
      steps: [
        zip === null ? `Download the Windows package from ${url}/install (not built yet on this collector)` : `Download ${zipUrl} and check its SHA-256 is ${zip.sha256} (PowerShell: Get-FileHash ${zip.name})`,
        'Extract the zip, right-click install.cmd and choose "Run as administrator"',
        `When asked, enter the collector address ${url} and paste the enrolment code ${code} (or, in an administrator prompt: install.cmd -Collector ${url} -Code ${code})`,
        'Check with: tocdo-agent status'
      ]
    },
    problem: zip === null ? problem ?? 'no Windows package on this collector yet' : null
  }
}
