import type { Command } from 'commander'
import { readFileSync } from 'node:fs'
import { adminCall, adminConnection } from './admin-client.js'
import { FLEET_PATHS, type AgencyView, type AgentRemoteConfig, type AgentView, type AgencyUpdateRequest, type AuditListReply, type EnrolmentCodeView, type NewAgencyReply, type NewAgencyRequest } from '../../shared/schemas/fleet.js'

interface ConnFlags { url?: string, adminToken?: string, json?: boolean }

const out = (text: string): void => { process.stdout.write(text.endsWith('\n') ? text : text + '\n') }

function withConnection (cmd: Command): Command {
  return cmd
    .option('--url <url>', 'collector base URL (env TOCDO_URL, default http://localhost:8080)')
    .option('--admin-token <token>', 'admin token (env TOCDO_ADMIN_TOKEN)')
    .option('--json', 'print JSON instead of a table')
}

function table (rows: Array<Record<string, unknown>>, columns: string[]): string {
  if (rows.length === 0) return '(none)'
  const cells = rows.map((r) => columns.map((c) => r[c] === null || r[c] === undefined ? '-' : String(r[c])))
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => (row[i] ?? '').length)))
  const line = (vals: string[]): string => vals.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd()
  return [line(columns), ...cells.map(line)].join('\n')
}

function num (name: string, raw: string | undefined): number | null {
  if (raw === undefined) return null
  const n = Number(raw)
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number of Mbit/s, got "${raw}"`)
  return n
}

export function registerAdmin (program: Command): void {
  const agency = program.command('agency').description('agencies (through the admin API of a running collector)')
  withConnection(agency.command('add')
    .description('add an agency, placed in both geographies, and print its single-use enrolment code (valid 14 days)')
    .requiredOption('--name <name>', 'agency name')
    .requiredOption('--commune <code>', 'commune code (5 digits)')
    .option('--scheme <scheme>', "scheme of --commune: '2025-07' (current) or '2025-03' (pre-reform)", '2025-07')
    .option('--legacy-commune <code>', 'with 2025-07: the old commune, to place the legacy district')
    .option('--new-commune <code>', 'with 2025-03 when the old commune was split: the new commune')
    .option('--category <category>', "'organisation' or 'public_access_point'", 'organisation')
    .requiredOption('--connection-class <class>', "'fixed', '4g', '5g' or 'leased_line'")
    .requiredOption('--isp <isp>', 'provider of the line')
    .option('--plan-down <mbps>', 'contracted download speed, Mbit/s')
    .option('--plan-up <mbps>', 'contracted upload speed, Mbit/s')
    .option('--high-tech-zone <name>', 'the high-tech zone the agency is in, e.g. "Khu công nghệ cao Hòa Lạc"'))
    .action(async (f: ConnFlags & Record<string, string | undefined>) => {
      const body: NewAgencyRequest = {
        name: f.name as string,
        communeCode: f.commune as string,
        scheme: f.scheme as NewAgencyRequest['scheme'],
        ...(f.legacyCommune !== undefined ? { legacyCommuneCode: f.legacyCommune } : {}),
        ...(f.newCommune !== undefined ? { newCommuneCode: f.newCommune } : {}),
        category: f.category as NewAgencyRequest['category'],
        connectionClass: f.connectionClass as NewAgencyRequest['connectionClass'],
        isp: f.isp as string,
        planDownMbps: num('plan-down', f.planDown),
        planUpMbps: num('plan-up', f.planUp),
        ...(f.highTechZone !== undefined ? { highTechZone: f.highTechZone } : {})
      }
      const r = await adminCall<NewAgencyReply>(adminConnection(f), 'POST', FLEET_PATHS.adminAgencies, body)
      if (f.json === true) return out(JSON.stringify(r, null, 2))
      out(`agency ${r.agency.id}: ${r.agency.name}\n  commune ${r.agency.communeCode} (province ${r.agency.provinceCode}), legacy district ${r.agency.legacyDistrictCode ?? '-'}\n  placement: ${r.agency.placementNote ?? '-'}${r.agency.highTechZone === null ? '' : `\n  high-tech zone: ${r.agency.highTechZone}`}`)
      if (r.agency.placementCandidates.length > 0) out(`  AMBIGUOUS legacy placement, candidates: ${r.agency.placementCandidates.join(', ')}`)
      out(`enrolment code: ${r.enrolment.code} (single use, expires ${r.enrolment.expiresAt})`)
      if (r.install !== undefined) {
        out(`\ninstall on Linux (as root, on the agency's machine):\n  ${r.install.linuxCommand}`)
        out(`install on Windows 10/11:\n${r.install.windows.steps.map((s, i) => `  ${i + 1}. ${s}`).join('\n')}`)
        out(`step-by-step page: ${r.install.installPage}${r.install.problem === null ? '' : `\n  note: ${r.install.problem}`}`)
      }
    })
  withConnection(agency.command('update <agencyId>')
    .description('change an agency: the high-tech zone it is in (targets for high-tech zones count only these agencies)')
    .option('--high-tech-zone <name>', 'the zone\'s name, e.g. "Khu công nghệ cao Hòa Lạc"')
    .option('--no-high-tech-zone', 'the agency is in no high-tech zone'))
    .action(async (id: string, f: ConnFlags & { highTechZone?: string | boolean }) => {
      // commander: --high-tech-zone <name> gives a string, --no-high-tech-zone gives false, neither leaves it true (the default of a negatable option).
      if (f.highTechZone === true || f.highTechZone === undefined) throw new Error('agency update: give --high-tech-zone <name> or --no-high-tech-zone')
      const body: AgencyUpdateRequest = { highTechZone: f.highTechZone === false ? null : f.highTechZone }
      const r = await adminCall<AgencyView>(adminConnection(f), 'PATCH', FLEET_PATHS.adminAgency.replace(':id', encodeURIComponent(id)), body)
      out(f.json === true ? JSON.stringify(r, null, 2) : `agency ${r.id}: ${r.name}\n  high-tech zone: ${r.highTechZone ?? '-'}`)
    })
  withConnection(agency.command('list').description('list agencies'))
    .action(async (f: ConnFlags) => {
      const r = await adminCall<{ agencies: AgencyView[] }>(adminConnection(f), 'GET', FLEET_PATHS.adminAgencies)
      out(f.json === true ? JSON.stringify(r.agencies, null, 2) : table(r.agencies, ['id', 'name', 'communeCode', 'provinceCode', 'legacyDistrictCode', 'connectionClass', 'isp', 'highTechZone']))
    })
  withConnection(agency.command('code <agencyId>').description('issue a new enrolment code for an agency'))
    .action(async (id: string, f: ConnFlags) => {
      const r = await adminCall<EnrolmentCodeView>(adminConnection(f), 'POST', FLEET_PATHS.adminEnrolmentCodes.replace(':id', encodeURIComponent(id)))
      out(f.json === true ? JSON.stringify(r) : `enrolment code: ${r.code} (single use, expires ${r.expiresAt})`)
    })

  const agent = program.command('agent').description('agents (through the admin API of a running collector)')
  withConnection(agent.command('list').description('list agents with their state (online ≤ 15 min since last sync, stale ≤ 1 h, offline), queue and clock'))
    .action(async (f: ConnFlags) => {
      const r = await adminCall<{ agents: AgentView[] }>(adminConnection(f), 'GET', FLEET_PATHS.adminAgents)
      out(f.json === true ? JSON.stringify(r.agents, null, 2) : table(r.agents, ['id', 'agencyName', 'hostname', 'status', 'state', 'lastSeenAt', 'agentVersion', 'outdated', 'os', 'queuePending', 'queueOldestAgeS', 'clockOffsetMs']))
    })
  for (const [name, path, what] of [['revoke', FLEET_PATHS.adminRevoke, 'revoke an agent: it keeps its data and stops sending (403)'], ['decommission', FLEET_PATHS.adminDecommission, 'decommission an agent: it stops measuring (410)']] as const) {
    withConnection(agent.command(`${name} <agentId>`).description(what))
      .action(async (id: string, f: ConnFlags) => {
        const r = await adminCall<AgentView>(adminConnection(f), 'POST', path.replace(':id', encodeURIComponent(id)))
        out(f.json === true ? JSON.stringify(r) : `agent ${r.id} (${r.hostname}): ${r.status}`)
      })
  }

  const config = program.command('config').description('remote configuration for all agents')
  withConnection(config.command('set <file>').description('set a new configuration version from a JSON file (AgentRemoteConfig; "version" may be omitted)'))
    .action(async (file: string, f: ConnFlags) => {
      let body: unknown
      try { body = JSON.parse(readFileSync(file, 'utf8')) } catch (err) { throw new Error(`cannot read ${file} as JSON: ${err instanceof Error ? err.message : String(err)}`) }
      const r = await adminCall<AgentRemoteConfig>(adminConnection(f), 'PUT', FLEET_PATHS.adminConfig, body)
      out(f.json === true ? JSON.stringify(r, null, 2) : `configuration version ${r.version} is in force; agents receive it at their next sync`)
    })
  withConnection(config.command('show').description('print the configuration in force'))
    .action(async (f: ConnFlags) => {
      out(JSON.stringify(await adminCall<AgentRemoteConfig>(adminConnection(f), 'GET', FLEET_PATHS.adminConfig), null, 2))
    })

  const audit = program.command('audit').description('the audit log of admin actions')
  withConnection(audit.command('list').description('list admin actions, newest first: when, who (admin token fingerprint), via, from where, action, target, status')
    .option('--limit <n>', 'number of entries (1 to 1000)', '50')
    .option('--before <id>', 'only entries older than this id (to page back)'))
    .action(async (f: ConnFlags & { limit: string, before?: string }) => {
      if (!/^[0-9]+$/.test(f.limit)) throw new Error(`--limit must be a whole number from 1 to 1000, got "${f.limit}"`)
      if (f.before !== undefined && !/^[0-9]+$/.test(f.before)) throw new Error(`--before must be an entry id (a whole number), got "${f.before}"`)
      const q = new URLSearchParams({ limit: f.limit, ...(f.before !== undefined ? { before: f.before } : {}) })
      const r = await adminCall<AuditListReply>(adminConnection(f), 'GET', `${FLEET_PATHS.adminAudit}?${q.toString()}`)
      if (f.json === true) return out(JSON.stringify(r, null, 2))
      out(table(r.entries.map((e) => ({ ...e, summary: JSON.stringify(e.summary) })), ['id', 'at', 'actor', 'via', 'clientIp', 'action', 'target', 'status', 'summary']))
      if (r.nextBefore !== null) out(`older entries: --before ${r.nextBefore}`)
    })
}
