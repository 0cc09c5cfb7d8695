import { Option, type Command } from 'commander'
import { mkdirSync } from 'node:fs'
import { loadCollectorConfig, type CollectorConfig } from '../config.js'
import { buildCollector, startCollector } from '../server.js'
import { ensureDemoAgent } from '../demo.js'
import { generateSampleData } from '../sample-data.js'

interface ServeFlags { host?: string, port?: string, dataDir?: string, logLevel?: string, speedtestOnly?: boolean, demo?: boolean, sampleData?: boolean, maxConcurrentTests?: string }

function configFrom (flags: ServeFlags): Readonly<CollectorConfig> {
  return loadCollectorConfig({
    env: process.env,
    overrides: {
      host: flags.host,
      port: flags.port === undefined ? undefined : Number(flags.port),
      dataDir: flags.dataDir,
      logLevel: flags.logLevel,
      speedtestOnly: flags.speedtestOnly,
      demo: flags.demo,
      sampleData: flags.sampleData,
      maxConcurrentTests: flags.maxConcurrentTests === undefined ? undefined : Number(flags.maxConcurrentTests)
    }
  })
}

async function serve (flags: ServeFlags): Promise<void> {
  // A standalone test server is meant to be reached from other machines over both
  // families, so it defaults to the dual-stack wildcard; the collector stays on localhost.
  const config = configFrom(flags.speedtestOnly === true && flags.host === undefined && process.env.TOCDO_HOST === undefined ? { ...flags, host: '::' } : flags)
  if (!config.speedtestOnly) mkdirSync(config.dataDir, { recursive: true })
  const app = await buildCollector(config)
  if (!config.speedtestOnly) {
    // Printed once, on stdout and never through the logger, so it does not end up in log
    // files; only its sha256 is stored. TOCDO_ADMIN_TOKEN replaces it.
    const fresh = await app.fleet.adminToken.ensure()
    if (fresh !== null) process.stdout.write(`tocdo-collector: admin token (shown once, only its hash is stored; keep it safe): ${fresh}\n`)
  }
  if (config.sampleData && !config.speedtestOnly) {
    const made = await generateSampleData(app)
    if (made.agencies > 0) app.log.info(made, 'sample data generated')
  }
  const address = await startCollector(app, config)
  if (config.demo && !config.speedtestOnly) {
    const creds = await ensureDemoAgent(app.stores, config.dataDir)
    app.log.info({ agentId: creds.agentId, agencyId: creds.agencyId }, 'demo agency and agent ready')
  }
  app.log.info({ address, mode: config.speedtestOnly ? 'speedtest-only' : 'collector' }, 'tocdo collector listening')
  // SIGHUP re-reads the TLS certificate and key (the files are also watched).
  process.on('SIGHUP', () => { if (config.tlsCertFile !== '') app.reloadTls() })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      app.log.info({ signal }, 'closing')
      app.close().then(() => process.exit(0), (err: unknown) => { app.log.error({ err }, 'close failed'); process.exit(1) })
    })
  }
}

export function registerServe (program: Command): void {
  program.command('serve', { isDefault: true })
    .description('run the collector (default), or a standalone test server with --speedtest-only')
    .option('--host <host>', "address to listen on ('localhost' = 127.0.0.1 and ::1; '::' = all, IPv4 and IPv6)")
    .option('--port <port>', 'TCP port (0 = any free port)')
    .option('--data-dir <dir>', 'directory for the SQLite database')
    .addOption(new Option('--log-level <level>').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
    .option('--speedtest-only', 'serve only the speed-test endpoints, with no database')
    .option('--max-concurrent-tests <n>', 'speed tests admitted at once before answering 503')
    .option('--demo', 'create a demo agency and a local agent token in <data-dir>/demo-agent.json')
    .option('--sample-data', 'fill an empty database with generated sample data, marked "Dữ liệu mẫu" on every page, export and document')
    .action(serve)
}
