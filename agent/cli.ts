#!/usr/bin/env node
import { Command } from 'commander'
import { isTocdoError } from '../shared/errors.js'
import { TOCDO_VERSION } from '../shared/version.js'
import { registerTest } from './commands/test.js'
import { registerRun } from './commands/run.js'
import { registerCalibrate } from './commands/calibrate.js'
import { registerEnroll } from './commands/enroll.js'
import { registerStatus } from './commands/status.js'

export function buildProgram (): Command {
  const program = new Command('tocdo-agent')
    .description('tocdo agent: measures this line\'s download, upload and latency and sends the results to a collector')
    .version(TOCDO_VERSION)
  registerTest(program)
  registerRun(program)
  registerCalibrate(program)
  registerEnroll(program)
  registerStatus(program)
  return program
}

buildProgram().parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`tocdo-agent: ${isTocdoError(err) ? err.message : err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
