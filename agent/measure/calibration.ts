import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * The agent's calibrated throughput ceiling (methodology.md §12): what this machine moves
 * through the same code path over loopback. A line result at ≥ 80 % of it may be the
 * agent's limit, not the line's, and is flagged client_limited.
 */
export interface Calibration {
  loopbackDownloadMbps: number
  loopbackUploadMbps: number
  measuredAt: string
  agentVersion: string
  cpuModel: string
  cores: number
  durationS: number
  /** Whether the server ran on its own thread (true) or shared the agent's event loop. */
  serverThread: 'worker' | 'same'
}

export const CALIBRATION_FILE = 'calibration.json'

export async function readCalibration (dataDir: string): Promise<Calibration | null> {
  try {
    const c = JSON.parse(await readFile(join(dataDir, CALIBRATION_FILE), 'utf8')) as Partial<Calibration>
    if (typeof c.loopbackDownloadMbps !== 'number' || typeof c.loopbackUploadMbps !== 'number') return null
    return c as Calibration
  } catch {
    return null
  }
}

/** Written to a temporary file and renamed, so a crash never leaves half a file. */
export async function writeCalibration (dataDir: string, c: Calibration): Promise<string> {
  await mkdir(dataDir, { recursive: true })
  const file = join(dataDir, CALIBRATION_FILE)
  await writeFile(`${file}.tmp`, JSON.stringify(c, null, 2) + '\n')
  await rename(`${file}.tmp`, file)
  return file
}
