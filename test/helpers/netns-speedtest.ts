/**
 * The real speed-test server and agent, each in its own namespace of a `createLink` pair,
 * for tests that provoke a fault on the path (test/integration/*-faults.test.ts).
 */
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { killTree, type Link } from '../fixtures/netns.js'
import type { ResultRecord } from '../../shared/schemas/result.js'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const SERVER_PORT = 8080

/** Resolves when the child prints `marker` on stdout or stderr; rejects if it exits first. */
export async function waitFor (child: ChildProcess, marker: RegExp, timeoutMs = 30_000): Promise<string> {
  let out = ''
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in ${timeoutMs} ms: ${out.slice(-2000)}`)), timeoutMs)
    const on = (d: Buffer): void => {
      out += d.toString('utf8')
      if (marker.test(out)) { clearTimeout(timer); resolve(out) }
    }
    child.stdout?.on('data', on)
    child.stderr?.on('data', on)
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`exited ${String(code)} before ready: ${out.slice(-2000)}`)) })
  })
}

/** The collector in speed-test-only mode in the server namespace; extra env for its options. */
export async function startServer (link: Link, env: Record<string, string> = {}): Promise<{ url: string, child: ChildProcess }> {
  const child = link.spawn(link.serverNs, 'env', [
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    process.execPath, '--import', 'tsx', 'collector/cli.ts', 'serve', '--host', link.serverAddr4, '--port', String(SERVER_PORT)
  ], { cwd: REPO_ROOT, env: { ...process.env, TOCDO_SPEEDTEST_ONLY: 'true' } })
  await waitFor(child, /listening/)
  return { url: `http://${link.serverAddr4}:${SERVER_PORT}`, child }
}

/** Runs `tocdo-agent test --json` in the client namespace (optionally under a wrapper such as `taskset`) and parses its record. */
export async function runAgentTest (link: Link, url: string, args: string[] = [], { wrapper = [], onSpawn }: { wrapper?: string[], onSpawn?: (child: ChildProcess) => void } = {}): Promise<ResultRecord> {
  const cmd = [...wrapper, process.execPath, '--import', 'tsx', 'agent/cli.ts', 'test', '--server', url, '--json', '--pings', '5', ...args]
  const child = link.spawn(link.clientNs, cmd[0] as string, cmd.slice(1), { cwd: REPO_ROOT })
  onSpawn?.(child)
  let out = ''
  let err = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { out += d })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { err += d })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  const line = out.trim().split('\n').pop() ?? ''
  try {
    return JSON.parse(line) as ResultRecord
  } catch {
    throw new Error(`agent exited ${String(code)} without a record: ${err.slice(-2000)} ${out.slice(-500)}`)
  }
}

/** A UDP flow at `mbit` from one namespace to the other (test/helpers/udp-flow.ts), until stopped. */
export async function competingFlow (link: Link, from: 'server' | 'client', mbit: number, port = 9009): Promise<() => void> {
  const [srcNs, dstNs, dst] = from === 'server' ? [link.serverNs, link.clientNs, link.clientAddr4] : [link.clientNs, link.serverNs, link.serverAddr4]
  const sink = link.spawn(dstNs, process.execPath, ['--import', 'tsx', 'test/helpers/udp-flow.ts', 'sink', dst, String(port)], { cwd: REPO_ROOT })
  await waitFor(sink, /ready/)
  const send = link.spawn(srcNs, process.execPath, ['--import', 'tsx', 'test/helpers/udp-flow.ts', 'send', dst, String(port), String(mbit)], { cwd: REPO_ROOT })
  await waitFor(send, /ready/)
  return () => { killTree(send); killTree(sink) }
}
