#!/usr/bin/env node
import { Command } from 'commander'
import { isTocdoError } from '../shared/errors.js'
import { TOCDO_VERSION } from '../shared/version.js'
import { registerServe } from './commands/serve.js'
import { registerAdmin } from './commands/admin.js'
import { registerBackup } from './commands/backup.js'
import { registerMigrate } from './commands/migrate.js'

export function buildProgram (): Command {
  const program = new Command('tocdo-collector')
    .description('tocdo collector: ingests agent results, serves speed-test endpoints and reports against the targets')
    .version(TOCDO_VERSION)
  registerServe(program)
  registerAdmin(program)
  registerBackup(program)
  registerMigrate(program)
  return program
}

buildProgram().parseAsync(process.argv).catch((err: unknown) => {
  if (isTocdoError(err)) {
    process.stderr.write(`tocdo-collector: ${err.message}\n`)
  } else if (err instanceof Error && !(err instanceof TypeError) && !(err instanceof ReferenceError)) {
    process.stderr.write(`tocdo-collector: ${err.message}\n`)
  } else {
    process.stderr.write(`tocdo-collector: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  }
  process.exit(1)
})
