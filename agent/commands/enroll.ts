import type { Command } from 'commander'
import { existsSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { OUTBOX_FILE, Outbox } from '../outbox/outbox.js'
import { TocdoError } from '../../shared/errors.js'
import { ENROLMENT_CODE_PATTERN } from '../../shared/schemas/fleet.js'
import { TOCDO_VERSION } from '../../shared/version.js'
import { postEnroll } from '../delivery/fleet-client.js'
import { collectorRoute, maskProxy } from '../delivery/proxy.js'
import { identityPath, loadIdentity, saveIdentity } from '../identity.js'
import { checkRemoteConfig, saveRemoteConfig } from '../sync/remote-config.js'
import { settingsFrom } from './run.js'
import { calibrate } from '../measure/calibrate.js'
import { writeCalibration } from '../measure/calibration.js'
import { systemClock } from '../measure/context.js'

/** Codes are printed in groups for people (ABCD-EFGH-…); the wire form is 16 upper-case base32 characters. */
export function normaliseCode (code: string): string {
  return code.replace(/[\s-]/g, '').toUpperCase()
}

/**
 * `tocdo-agent enroll --collector URL --code CODE`: trades an agency's enrolment code for
 * this agent's id and secret token, stored in <data-dir>/identity.json (mode 0600). The
 * token is never printed or logged.
 */
export function registerEnroll (program: Command): void {
  program.command('enroll')
    .description('enrol this machine with a collector using the agency\'s enrolment code')
    .requiredOption('--collector <url>', 'collector URL, e.g. https://tocdo.example.gov.vn')
    .requiredOption('--code <code>', 'enrolment code from the provincial admin (16 characters; dashes and spaces ignored)')
    .option('--data-dir <dir>', 'agent data directory (identity, outbox, remote config)')
    .option('--config <file>', 'JSON config file')
    .option('--force', 'replace an existing identity in the data dir')
    .option('--no-calibrate', 'skip measuring this machine\'s loopback ceiling (run `tocdo-agent calibrate` later)')
    .action(async (flags: { collector: string, code: string, dataDir?: string, config?: string, force?: boolean, calibrate: boolean }) => {
      const settings = settingsFrom({ collector: flags.collector, ...(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }), ...(flags.config === undefined ? {} : { config: flags.config }) })
      const collector = settings.collector as string
      const existing = loadIdentity(settings.dataDir)
      if (existing !== null && flags.force !== true) {
        throw new TocdoError('TOCDO_ERR_CONFLICT', `already enrolled as agent ${existing.agentId} with ${existing.collector} (${identityPath(settings.dataDir)}); pass --force to replace it, or use another --data-dir`)
      }
      const code = normaliseCode(flags.code)
      if (!new RegExp(ENROLMENT_CODE_PATTERN).test(code)) {
        throw new TocdoError('TOCDO_ERR_ENROLMENT_CODE', `--code must be 16 characters A–Z and 2–7 (got ${code.length} characters); copy it again from the enrolment sheet`)
      }
      const route = await collectorRoute(collector, settings)
      const via = route.proxy === null ? 'direct' : `through proxy ${maskProxy(route.proxy)} (${route.settings.source})`
      const reply = await postEnroll(collector, { code, hostname: os.hostname().slice(0, 255) || 'unknown', os: `${os.platform()} ${os.release()}`.slice(0, 100), arch: os.arch(), agentVersion: TOCDO_VERSION }, undefined, route.dispatcher)
        .catch((err: unknown) => { throw new TocdoError('TOCDO_ERR_COLLECTOR_UNREACHABLE', `cannot reach ${collector} (${via}): ${err instanceof Error ? err.message : String(err)}; check the URL, the proxy setting (docs/agent.md, "Proxy and private CA") and the firewall`, { cause: err }) })
      if (!reply.ok) {
        const what = reply.code === 'TOCDO_ERR_ENROLMENT_CODE' ? 'the enrolment code is invalid, already used or expired: ask the provincial admin for a new one' : reply.message
        throw new TocdoError(reply.status === 400 ? 'TOCDO_ERR_ENROLMENT_CODE' : 'TOCDO_ERR_INTERNAL', `enrolment refused by ${collector} (HTTP ${reply.status} ${reply.code}): ${what}`)
      }
      const { agentId, token, agency, config } = reply.body
      saveIdentity(settings.dataDir, { agentId, token, collector, enrolledAt: new Date().toISOString(), agency })
      if (existsSync(join(settings.dataDir, OUTBOX_FILE))) {
        // A new identity starts active; results still stored from the old one are kept and sent under it.
        const outbox = new Outbox(settings.dataDir)
        for (const key of ['fleetState', 'upgradeRequiredSince', 'configRejected']) outbox.deleteMeta(key)
        outbox.close()
      }
      const check = checkRemoteConfig(config)
      if (check.ok) saveRemoteConfig(settings.dataDir, check.config)
      // Calibrate at install time (methodology.md §12), so client_limited can compare results
      // with what this machine moves through the same code path.
      let calibration = 'skipped (--no-calibrate); run tocdo-agent calibrate'
      if (flags.calibrate) {
        const c = await calibrate({ clock: systemClock })
        await writeCalibration(settings.dataDir, c)
        calibration = `loopback ceiling ${Math.round(c.loopbackDownloadMbps)} / ${Math.round(c.loopbackUploadMbps)} Mbps down/up`
      }
      process.stdout.write([
        `enrolled: agent ${agentId}`,
        `  agency     ${agency.name} (commune ${agency.communeCode}, province ${agency.provinceCode})`,
        `  line       ${agency.connectionClass}, ${agency.isp}, plan ${agency.planDownMbps ?? '?'}/${agency.planUpMbps ?? '?'} Mbps`,
        `  identity   ${identityPath(settings.dataDir)} (mode 0600; keep it private)`,
        `  calibrated ${calibration}`,
        `  route      ${via}`,
        `  config     ${check.ok ? `version ${check.config.version}` : `refused (${check.reason}); the built-in default applies`}`,
        'next: tocdo-agent run (or install the service: docs/agent.md)'
      ].join('\n') + '\n')
    })
}
