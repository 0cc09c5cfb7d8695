import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface AgentProcess {
  proc: ChildProcess
  /** Everything written to stdout and stderr so far. */
  output: () => string
  /** Parsed pino lines from stdout. */
  logs: () => Array<Record<string, unknown>>
  /** Resolves when a log line matches `pred`, rejects after `timeoutMs`. */
  waitForLog: (pred: (line: Record<string, unknown>) => boolean, timeoutMs?: number) => Promise<Record<string, unknown>>
  exited: Promise<number | string | null>
}

/**
 * Spawns the real agent (`agent/cli.ts`, TypeScript run by tsx). `clockShiftMs` runs it under
 * the test-only clock-shift preload; `clockShiftFile` lets the test step the clock mid-run
 * (write the new shift, then send SIGUSR2).
 */
export function spawnAgent (args: string[], { env = {}, clockShiftMs, clockShiftFile }: { env?: Record<string, string>, clockShiftMs?: number, clockShiftFile?: string } = {}): AgentProcess {
  const preload = clockShiftMs !== undefined || clockShiftFile !== undefined ? ['--import', './test/helpers/clock-shift.ts'] : []
  const proc = spawn(process.execPath, ['--import', 'tsx', ...preload, 'agent/cli.ts', ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      TOCDO_AGENT_LOG_LEVEL: 'info',
      ...(clockShiftMs !== undefined ? { TOCDO_TEST_CLOCK_SHIFT_MS: String(clockShiftMs) } : {}),
      ...(clockShiftFile !== undefined ? { TOCDO_TEST_CLOCK_SHIFT_FILE: clockShiftFile } : {}),
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => { out += d })
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => { out += d })
  const exited = new Promise<number | string | null>((resolve) => proc.once('exit', (code, signal) => resolve(signal ?? code)))
  const logs = (): Array<Record<string, unknown>> => out.split('\n').filter((l) => l.startsWith('{')).flatMap((l) => { try { return [JSON.parse(l) as Record<string, unknown>] } catch { return [] } })
  const waitForLog = async (pred: (line: Record<string, unknown>) => boolean, timeoutMs = 30_000): Promise<Record<string, unknown>> => {
    const start = Date.now()
    let exitedAt: number | null = null
    void exited.then(() => { exitedAt = Date.now() })
    for (;;) {
      const hit = logs().find(pred)
      if (hit !== undefined) return hit
      if (exitedAt !== null || Date.now() - start > timeoutMs) throw new Error(`agent log line not seen (${exitedAt !== null ? 'agent exited' : 'timeout'}):\n${out.slice(-3000)}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  return { proc, output: () => out, logs, waitForLog, exited }
}

/** Runs the agent to completion and returns its exit code and output. */
export async function runAgent (args: string[], opts: Parameters<typeof spawnAgent>[1] = {}): Promise<{ code: number | string | null, output: string }> {
  const a = spawnAgent(args, opts)
  const code = await a.exited
  return { code, output: a.output() }
}

/**
 * Settings that make a real agent fast enough for tests: no start-up wait, short back-off,
 * and no scheduled measurements (tests that count results must not see a latency check
 * that happened to fall due); `run --once` still measures.
 */
export const FAST_AGENT_ENV: Record<string, string> = {
  TOCDO_AGENT_TASKS: '',
  TOCDO_AGENT_STARTUP_DELAY_MAX_S: '0',
  TOCDO_AGENT_BACKOFF_BASE_S: '0.2',
  TOCDO_AGENT_BACKOFF_CAP_S: '1',
  TOCDO_AGENT_SYNC_INTERVAL_S: '1'
}
