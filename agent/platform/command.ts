import { execFile } from 'node:child_process'

/**
 * Runs an operating-system command and hands back what it printed. Platform readers take one
 * as a parameter so their parsers are tested against recorded outputs (test/fixtures/windows/)
 * on any system; the agent passes `execRunner`.
 */
export interface CommandOutput { code: number | null, stdout: string, stderr: string, error?: string }
export type CommandRunner = (file: string, args: readonly string[]) => Promise<CommandOutput>

/** Every platform command is small and local; one that takes longer is treated as unavailable. */
const TIMEOUT_MS = 15_000

export const execRunner: CommandRunner = async (file, args) => await new Promise((resolve) => {
  execFile(file, args, { timeout: TIMEOUT_MS, windowsHide: true, maxBuffer: 4 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
    if (err === null) { resolve({ code: 0, stdout, stderr }); return }
    const code = typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null
    resolve({ code, stdout, stderr, error: err.message })
  })
})

/** Why a command's output cannot be used, or null when it ran. */
export function commandProblem (what: string, out: CommandOutput): string | null {
  if (out.code === 0) return null
  return `${what} failed: ${(out.error ?? out.stderr).trim().split('\n')[0]?.slice(0, 200) ?? `exit ${String(out.code)}`}`
}

/**
 * PowerShell with UTF-8 output: without it, Windows writes in the console's code page and
 * Vietnamese adapter names or labels arrive garbled.
 */
export function powershell (script: string): [string, string[]] {
  return ['powershell.exe', ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-Command', `[Console]::OutputEncoding=[Text.Encoding]::UTF8; ${script}`]]
}

/** A console program run by cmd.exe after switching the code page to UTF-8 (65001), for the same reason. */
export function utf8Console (command: string): [string, string[]] {
  return ['cmd.exe', ['/d', '/s', '/c', `chcp 65001 >nul & ${command}`]]
}
