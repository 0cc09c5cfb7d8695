import { Command, Option } from 'commander'
import { loadAgentConfig, type AgentConfig } from '../config.js'

export interface CommonFlags {
  config?: string
  collector?: string
  token?: string
  agentId?: string
  server?: string[]
  pings?: string
  maxSeconds?: string
  planDown?: string
  logLevel?: string
}

export const num = (v: string | undefined): number | undefined => v === undefined ? undefined : Number(v)

/** Settings from the config file, environment and these flags (plus --data-dir where a command has it). */
export function configFrom (flags: CommonFlags & { dataDir?: string }): Readonly<AgentConfig> {
  return loadAgentConfig({
    file: flags.config,
    env: process.env,
    flags: {
      collector: flags.collector,
      token: flags.token,
      agentId: flags.agentId,
      servers: flags.server,
      pings: num(flags.pings),
      maxSecondsPerDirection: num(flags.maxSeconds),
      planDownMbps: num(flags.planDown),
      logLevel: flags.logLevel,
      dataDir: flags.dataDir
    }
  })
}

export function serversOf (config: Readonly<AgentConfig>): string[] {
  if (config.servers.length > 0) return [...config.servers]
  if (config.collector !== null) return [config.collector]
  return []
}

export function withCommon (cmd: Command): Command {
  return cmd
    .option('--config <file>', 'JSON config file (settings as in docs/agent-config.md)')
    .option('--collector <url>', 'collector URL, e.g. http://localhost:8080')
    .option('--token <token>', 'agent bearer token issued by the collector')
    .option('--agent-id <id>', 'agent id issued by the collector')
    .option('--server <url...>', 'test server URL (repeat for several); default: the collector')
    .option('--pings <n>', 'idle latency pings per test')
    .option('--max-seconds <s>', 'hard cap per direction, seconds')
    .option('--plan-down <mbps>', 'plan download speed, Mbps (picks the initial stream count)')
    .addOption(new Option('--log-level <level>').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
}
