import type { ChildProcess } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { STOP_REQUEST_FILE } from './templates.js'

export interface SupervisorOptions {
  /** Starts one agent (`tocdo-agent run`) with an IPC channel and piped output. */
  start: () => ChildProcess
  /** Where the agent's output and the supervisor's own lines go. */
  write: (line: string | Buffer) => void
  dataDir: string
  /** Aborted by SIGINT/SIGTERM/SIGBREAK: stop the agent cleanly and return. */
  signal: AbortSignal
  /** Wait after the first failure, doubled per failure up to maxBackoffMs; reset after a run of resetAfterMs. */
  backoffMs?: number
  maxBackoffMs?: number
  resetAfterMs?: number
  /** How long the agent gets to finish after a stop request before it is ended. */
  stopGraceMs?: number
  pollMs?: number
  now?: () => number
}

/**
 * The Windows service's supervisor (docs/agent.md, "Building the packages"). It restarts the
 * agent after a crash or non-zero exit, with back-off; it returns 0 and does not restart when
 * the agent exits 0, which the agent does after a deliberate stop and after a decommission.
 * A deliberate stop is a `stop-request` file in the data dir (written by uninstall.ps1 and
 * install.ps1 before an upgrade) or a signal; the agent is asked over IPC, since on Windows
 * `kill()` ends a process without letting it finish its step.
 */
export async function supervise ({
  start, write, dataDir, signal, backoffMs = 10_000, maxBackoffMs = 600_000, resetAfterMs = 3_600_000,
  stopGraceMs = 15_000, pollMs = 1000, now = Date.now
}: SupervisorOptions): Promise<number> {
  const stopFile = join(dataDir, STOP_REQUEST_FILE)
  rmSync(stopFile, { force: true })
  const line = (msg: string): void => { write(JSON.stringify({ time: now(), name: 'tocdo-agent-service', msg }) + '\n') }
  let stopping = false
  let wake: (() => void) | null = null
  const requestStop = (): void => { stopping = true; wake?.() }
  signal.addEventListener('abort', requestStop, { once: true })
  const poll = setInterval(() => { if (existsSync(stopFile)) requestStop() }, pollMs)
  let delay = backoffMs
  try {
    for (;;) {
      // A stop requested during the back-off wait.
      if (stopping) return 0
      const startedAt = now()
      const child = start()
      line(`agent started (pid ${child.pid ?? '?'})`)
      child.stdout?.on('data', (d: Buffer) => { write(d) })
      child.stderr?.on('data', (d: Buffer) => { write(d) })
      const exited = new Promise<number | null>((resolve) => {
        child.once('exit', (code, sig) => { resolve(code ?? (sig !== null ? 1 : null)) })
        child.once('error', (err) => { line(`agent could not start: ${err.message}`); resolve(1) })
      })
      const stopped = new Promise<void>((resolve) => { wake = resolve; if (stopping) resolve() })
      const first = await Promise.race([exited.then((code) => ({ code })), stopped.then(() => null)])
      if (first === null) {
        line('stop requested; asking the agent to finish its step')
        if (child.connected) child.send('stop')
        const timer = setTimeout(() => { line('agent did not stop in time; ending it'); child.kill() }, stopGraceMs)
        const code = await exited
        clearTimeout(timer)
        line(`agent stopped (exit ${code ?? '?'})`)
        return 0
      }
      if (first.code === 0) {
        line('agent exited 0 (stopped or decommissioned); not restarting')
        return 0
      }
      if (now() - startedAt >= resetAfterMs) delay = backoffMs
      line(`agent exited with ${first.code ?? '?'}; restarting in ${Math.round(delay / 1000)} s`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay)
        wake = () => { clearTimeout(t); resolve() }
        if (stopping) wake()
      })
      delay = Math.min(maxBackoffMs, delay * 2)
    }
  } finally {
    clearInterval(poll)
    signal.removeEventListener('abort', requestStop)
    rmSync(stopFile, { force: true })
  }
}
