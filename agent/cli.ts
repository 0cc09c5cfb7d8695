#!/usr/bin/env node
import { Command } from 'commander'
import { isTocdoError } from '../shared/errors.js'
import { TOCDO_VERSION } from '../shared/version.js'

type Register = (program: Command) => void

/**
 * Each command's module, loaded only when that command runs (or when help lists them all):
 * a manual `test` then carries neither the service's logger, outbox database and collector
 * client nor their memory, which is counted in the agent's peak RSS (docs/accuracy.md).
 */
const service = async (): Promise<Register> => (await import('./commands/service.js')).registerService
const COMMANDS: Record<string, () => Promise<Register>> = {
  test: async () => (await import('./commands/test.js')).registerTest,
  run: async () => (await import('./commands/run.js')).registerRun,
  calibrate: async () => (await import('./commands/calibrate.js')).registerCalibrate,
  enroll: async () => (await import('./commands/enroll.js')).registerEnroll,
  status: async () => (await import('./commands/status.js')).registerStatus,
  doctor: async () => (await import('./commands/doctor.js')).registerDoctor,
  'install-service': service,
  'uninstall-service': service,
  service
}

export async function buildProgram (argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command('tocdo-agent')
    .description('tocdo agent: measures this line\'s download, upload and latency and sends the results to a collector')
    .version(TOCDO_VERSION)
  const named = argv[2]
  const names = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS)
  // One module may register several commands (service.ts): load each module once.
  for (const load of new Set(names.map((name) => COMMANDS[name] as () => Promise<Register>))) (await load())(program)
  return program
}

buildProgram().then(async (program) => await program.parseAsync(process.argv)).catch((err: unknown) => {
  process.stderr.write(`tocdo-agent: ${isTocdoError(err) ? err.message : err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
