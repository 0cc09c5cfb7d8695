import type { Command } from 'commander'
import { configFrom, withCommon, type CommonFlags } from './common.js'
import { calibrate } from '../measure/calibrate.js'
import { writeCalibration } from '../measure/calibration.js'
import { systemClock } from '../measure/context.js'

/**
 * `tocdo-agent calibrate`: measures this machine's loopback ceiling through the agent's own
 * code path and stores it in the data directory, where every later test reads it to flag
 * results the agent itself may have limited (client_limited).
 */
export function registerCalibrate (program: Command): void {
  withCommon(program.command('calibrate'))
    .description('measure this machine\'s loopback throughput ceiling and store it for client_limited checks')
    .option('--json', 'print the calibration as JSON on stdout (nothing else)')
    .option('--seconds <s>', 'seconds per direction', '5')
    .action(async (flags: CommonFlags & { json?: boolean, seconds: string }) => {
      const config = configFrom(flags)
      const seconds = Number(flags.seconds)
      if (!(seconds >= 2 && seconds <= 30)) throw new Error(`--seconds must be between 2 and 30, got "${flags.seconds}"`)
      if (flags.json !== true && process.stderr.isTTY) process.stderr.write(`calibrating: ${seconds} s download and ${seconds} s upload over loopback…\n`)
      const c = await calibrate({ clock: systemClock, seconds })
      const file = await writeCalibration(config.dataDir, c)
      if (flags.json === true) process.stdout.write(JSON.stringify({ ...c, file }) + '\n')
      else process.stdout.write(`loopback ceiling: download ${c.loopbackDownloadMbps.toFixed(0)} Mbps, upload ${c.loopbackUploadMbps.toFixed(0)} Mbps (server on ${c.serverThread === 'worker' ? 'a worker thread' : 'the same thread'})\nstored in ${file}\n`)
    })
}
