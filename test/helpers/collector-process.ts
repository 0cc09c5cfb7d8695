import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface CollectorProcess {
  proc: ChildProcess
  url: string
  /** Everything the process wrote to stdout so far. */
  stdout: () => string
  /** Resolves with the exit code or signal once the process has exited. */
  exited: Promise<number | string | null>
}

/**
 * Spawns the real collector (`collector/cli.ts serve`, TypeScript run by tsx) on
 * 127.0.0.1 port 0 with its data in `dataDir`, and resolves once it listens.
 */
export async function spawnCollector ({ dataDir, env = {}, args = [] }: { dataDir: string, env?: Record<string, string>, args?: string[] }): Promise<CollectorProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'collector/cli.ts', 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'info', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => { out += d })
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => { err += d })
  const exited = new Promise<number | string | null>((resolve) => proc.once('exit', (code, signal) => resolve(signal ?? code)))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collector did not start in 30 s:\n${out}\n${err}`)), 30_000)
    const check = (): void => {
      const m = /"address":"(https?:\/\/[^"]+)".*tocdo collector listening/.exec(out)
      if (m?.[1] !== undefined) { clearTimeout(timer); resolve(m[1]) }
    }
    proc.stdout?.on('data', check)
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`collector exited (${String(code)}) before listening:\n${out}\n${err}`)) })
  })
  return { proc, url, stdout: () => out, exited }
}
