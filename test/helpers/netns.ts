/**
 * Two network namespaces joined by an emulated link, for integration tests and
 * for bench/accuracy.
 *
 *   const link = await createLink({ rateMbit: 100, rttMs: 20 });
 *   const server = link.spawn(link.serverNs, 'node', ['server.js', link.serverAddr4]);
 *   const { stdout } = await link.exec(link.clientNs, 'ping', ['-c', '3', link.serverAddr4]);
 *   await link.destroy();
 *
 * - No delay and no loss: a veth pair (cheapest).
 * - rttMs > 0 or loss > 0 (or `via: 'tun'`): two TUN devices joined by
 *   bench/accuracy/tunlink.c, which adds rttMs / 2 each way. The kernel here has
 *   no sch_netem, hence the userspace emulator. The binary is built on demand
 *   with the system C compiler into bench/accuracy/build/.
 * - rateMbit: tbf on each namespace's egress, so both directions are shaped.
 * - ipv6: true (default) adds 2001:2::1 / 2001:2::2; false disables IPv6 in
 *   both namespaces entirely (no ::1, no link-local), for "no IPv6 at all" tests.
 *
 * Addresses are in the benchmarking ranges (198.18.0.0/15, RFC 2544;
 * 2001:2::/48, RFC 5180) and every pair lives in its own namespaces, so pairs
 * can use the same addresses and run in parallel. Needs root (CAP_NET_ADMIN);
 * call `netnsSupport()` first to skip a test cleanly where that is missing.
 */
import { execFile, execFileSync, spawn as spawnChild } from 'node:child_process'
import type { ChildProcess, SpawnOptions } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, renameSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface LinkOptions {
  /** tbf rate on each side's egress, Mbit/s. Unset: unshaped. */
  rateMbit?: number;
  /** Round-trip delay added by the TUN emulator, ms (rttMs / 2 each way). */
  rttMs?: number;
  /** Fraction of packets dropped at random in each direction, 0 ≤ loss < 1. */
  loss?: number;
  /** Dual-stack when true (default); IPv6 disabled in both namespaces when false. */
  ipv6?: boolean;
  /** Force the link type; default veth unless rttMs or loss needs the emulator. */
  via?: 'veth' | 'tun';
  /** Prefix of the namespace names, to tell a harness's namespaces apart. */
  prefix?: string;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export interface Link {
  serverNs: string;
  clientNs: string;
  /** Name of the link device inside each namespace. */
  device: string;
  via: 'veth' | 'tun';
  serverAddr4: string;
  clientAddr4: string;
  serverAddr6?: string;
  clientAddr6?: string;
  rateMbit?: number;
  rttMs: number;
  /**
   * Best possible TCP goodput of full-size segments (MSS 1448 with timestamps)
   * under the tbf rate. tbf counts what the device carries: 1500-byte IP
   * packets on TUN, 1514-byte Ethernet frames on veth.
   */
  goodputCeilingMbps?: number;
  /** tbf parameters actually used, for reports. */
  tbf?: { burstBytes: number; latencyMs: number };
  /** Run a command to completion in a namespace; rejects on non-zero exit like execFile. */
  exec(ns: string, cmd: string, args?: readonly string[], opts?: { timeoutMs?: number }): Promise<ExecResult>;
  /** Start a long-running command in a namespace, in its own process group; destroy() kills the group. */
  spawn(ns: string, cmd: string, args?: readonly string[], opts?: SpawnOptions): ChildProcess;
  /** Tunlink's packet counters (TUN links only), available after destroy(). */
  emulatorStats(): string;
  destroy(): Promise<void>;
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const TUNLINK_SRC = join(REPO_ROOT, 'bench/accuracy/tunlink.c')
const TUNLINK_BIN = join(REPO_ROOT, 'bench/accuracy/build/tunlink')
const DEVICE = 'link0'
const ADDR = { server4: '198.18.0.1', client4: '198.18.0.2', server6: '2001:2::1', client6: '2001:2::2' }
const DEFAULT_PREFIX = 'tocdo'

/**
 * Signal a spawned command and everything it started. Commands run detached in
 * their own process group, because a wrapper (`sh -c`, GNU time) does not pass
 * signals on, and a surviving grandchild keeps our pipes open.
 */
export function killTree (child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    child.kill(signal)
  }
}

let counter = 0
const live = new Set<{ names: string[]; children: Set<ChildProcess> }>()
let exitHookInstalled = false

function run (cmd: string, args: readonly string[], timeoutMs = 30_000): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const e = err as Error & { stdout?: string; stderr?: string }
        e.message = `${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`
        e.stdout = stdout
        e.stderr = stderr
        reject(e)
      } else {
        resolve({ stdout, stderr })
      }
    })
  })
}

/** Whether this process can create namespaces; `reason` says why not. */
export async function netnsSupport (needTun = false): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (process.platform !== 'linux') return { ok: false, reason: 'not Linux' }
  if (process.getuid?.() !== 0) return { ok: false, reason: 'needs root (CAP_NET_ADMIN)' }
  try {
    await run('ip', ['-V'])
  } catch {
    return { ok: false, reason: 'iproute2 (ip) not installed' }
  }
  if (needTun) {
    try {
      statSync('/dev/net/tun')
    } catch {
      return { ok: false, reason: '/dev/net/tun missing' }
    }
  }
  return { ok: true }
}

/** Build tunlink if missing or older than its source; returns the binary's path. */
export async function buildTunlink (): Promise<string> {
  const srcTime = statSync(TUNLINK_SRC).mtimeMs
  try {
    if (statSync(TUNLINK_BIN).mtimeMs >= srcTime) return TUNLINK_BIN
  } catch {
    // not built yet
  }
  mkdirSync(dirname(TUNLINK_BIN), { recursive: true })
  // Build under a unique name and rename, so parallel tests never run a half-written binary.
  const tmp = `${TUNLINK_BIN}.${process.pid}.${randomBytes(4).toString('hex')}`
  await run('cc', ['-O2', '-Wall', '-pthread', '-o', tmp, TUNLINK_SRC], 120_000)
  renameSync(tmp, TUNLINK_BIN)
  return TUNLINK_BIN
}

/**
 * tbf burst: 4 ms of tokens, at least 32 KB. 4 ms is one jiffy at HZ=250
 * (Debian's default), the classic "burst ≥ rate / HZ" floor; tbf's watchdog
 * is an hrtimer, so more would only add start-up overshoot. The queue
 * (latency) holds RTT + 20 ms at the rate: at least one bandwidth-delay
 * product, so loss-based TCP keeps the link busy as on a real access link.
 */
export function tbfParams (rateMbit: number, rttMs: number): { burstBytes: number; latencyMs: number } {
  const bytesPerMs = (rateMbit * 1e6) / 8 / 1000
  return { burstBytes: Math.max(32 * 1024, Math.round(bytesPerMs * 4)), latencyMs: Math.round(rttMs) + 20 }
}

function installExitHook (): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // Last resort for a test runner that exits without calling destroy():
  // namespaces outlive processes, children and the emulator do not.
  process.once('exit', () => {
    for (const entry of live) {
      for (const child of entry.children) killTree(child, 'SIGKILL')
      for (const name of entry.names) {
        try {
          execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' })
        } catch {
          // already gone
        }
      }
    }
  })
}

/**
 * Delete namespaces left behind by processes that died without cleaning up
 * (names carry the creator's pid). Safe to call while other pairs are live.
 */
export async function cleanupStaleNamespaces (prefix = DEFAULT_PREFIX): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list'])
  const removed: string[] = []
  const re = new RegExp(`^(${prefix}-(\\d+)-\\w+-[sc])\\b`)
  for (const line of stdout.split('\n')) {
    const m = re.exec(line.trim())
    if (!m) continue
    const pid = Number(m[2])
    let alive = true
    try {
      process.kill(pid, 0)
    } catch (e) {
      alive = (e as NodeJS.ErrnoException).code === 'EPERM'
    }
    if (!alive || pid === process.pid) {
      if (pid === process.pid && [...live].some((l) => l.names.includes(m[1]!))) continue
      await run('ip', ['netns', 'del', m[1]!]).catch(() => undefined)
      removed.push(m[1]!)
    }
  }
  return removed
}

async function startTunlink (
  bin: string,
  devA: string,
  devB: string,
  oneWayUs: number,
  loss: number
): Promise<{ child: ChildProcess; stderr: () => string }> {
  const child = spawnChild(bin, ['-a', devA, '-b', devB, '-d', String(oneWayUs), '-l', String(loss)], {
    // stdin stays a pipe: tunlink exits when it closes, i.e. when we die.
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (d: string) => {
    err += d
  })
  await new Promise<void>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`tunlink did not start: ${err.trim()}`)), 5_000)
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (d: string) => {
      out += d
      if (out.includes('ready')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`tunlink exited with ${code}: ${err.trim()}`))
    })
  })
  child.removeAllListeners('exit')
  return { child, stderr: () => err }
}

/** veth reports carrier through linkwatch, up to a second after "up"; traffic before that is dropped. */
async function waitForCarrier (...namespaces: string[]): Promise<void> {
  for (const ns of namespaces) {
    for (let i = 0; ; i++) {
      const { stdout } = await run('ip', ['-n', ns, '-o', 'link', 'show', DEVICE])
      if (!stdout.includes('NO-CARRIER') && /state (UP|UNKNOWN)/.test(stdout)) break
      if (i >= 50) throw new Error(`${ns}: ${DEVICE} has no carrier after 5 s`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

export async function createLink (opts: LinkOptions = {}): Promise<Link> {
  const rttMs = opts.rttMs ?? 0
  const loss = opts.loss ?? 0
  const ipv6 = opts.ipv6 ?? true
  if (rttMs < 0 || !(loss >= 0 && loss < 1)) throw new RangeError('rttMs must be ≥ 0 and 0 ≤ loss < 1')
  if (opts.rateMbit !== undefined && !(opts.rateMbit > 0)) throw new RangeError('rateMbit must be > 0')
  const via = opts.via ?? (rttMs > 0 || loss > 0 ? 'tun' : 'veth')
  if (via === 'veth' && (rttMs > 0 || loss > 0)) throw new RangeError('delay and loss need via: "tun"')

  const support = await netnsSupport(via === 'tun')
  if (!support.ok) throw new Error(`cannot create namespaces: ${support.reason}`)

  const id = `${process.pid}-${(counter++).toString(36)}${randomBytes(2).toString('hex')}`
  const prefix = opts.prefix ?? DEFAULT_PREFIX
  const serverNs = `${prefix}-${id}-s`
  const clientNs = `${prefix}-${id}-c`
  const entry = { names: [] as string[], children: new Set<ChildProcess>() }
  live.add(entry)
  installExitHook()

  let emulator: { child: ChildProcess; stderr: () => string } | undefined
  let destroyed = false

  const destroy = async (): Promise<void> => {
    if (destroyed) return
    destroyed = true
    const exits = [...entry.children].map(
      (c) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', () => resolve())))
    )
    for (const c of entry.children) killTree(c, 'SIGTERM')
    const killTimer = setTimeout(() => {
      for (const c of entry.children) killTree(c, 'SIGKILL')
    }, 2_000)
    await Promise.all(exits)
    clearTimeout(killTimer)
    for (const name of entry.names) await run('ip', ['netns', 'del', name]).catch(() => undefined)
    live.delete(entry)
  }

  const exec = (ns: string, cmd: string, args: readonly string[] = [], o: { timeoutMs?: number } = {}) =>
    run('ip', ['netns', 'exec', ns, cmd, ...args], o.timeoutMs ?? 60_000)

  const spawn = (ns: string, cmd: string, args: readonly string[] = [], o: SpawnOptions = {}): ChildProcess => {
    // `ip netns exec` execs the command itself, so this pid is the command's.
    const child = spawnChild('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: 'pipe', ...o, detached: true })
    entry.children.add(child)
    child.once('exit', () => entry.children.delete(child))
    return child
  }

  try {
    for (const ns of [serverNs, clientNs]) {
      await run('ip', ['netns', 'add', ns])
      entry.names.push(ns)
      if (!ipv6) {
        // Before any device arrives, so "default" covers link0 as well as lo.
        await exec(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'])
      }
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
    }

    if (via === 'veth') {
      await run('ip', ['link', 'add', DEVICE, 'netns', serverNs, 'type', 'veth', 'peer', 'name', DEVICE, 'netns', clientNs])
    } else {
      const bin = await buildTunlink()
      // Created in our namespace first, so names must be unique there; renamed to link0 once moved.
      const tag = randomBytes(4).toString('hex')
      const devS = `tks${tag}`
      const devC = `tkc${tag}`
      emulator = await startTunlink(bin, devS, devC, Math.round((rttMs * 1000) / 2), loss)
      entry.children.add(emulator.child)
      emulator.child.once('exit', () => entry.children.delete(emulator!.child))
      await run('ip', ['link', 'set', devS, 'netns', serverNs])
      await run('ip', ['link', 'set', devC, 'netns', clientNs])
      await run('ip', ['-n', serverNs, 'link', 'set', devS, 'name', DEVICE])
      await run('ip', ['-n', clientNs, 'link', 'set', devC, 'name', DEVICE])
    }

    const sides = [
      { ns: serverNs, a4: ADDR.server4, a6: ADDR.server6 },
      { ns: clientNs, a4: ADDR.client4, a6: ADDR.client6 },
    ]
    const tbf = opts.rateMbit !== undefined ? tbfParams(opts.rateMbit, rttMs) : undefined
    for (const s of sides) {
      await run('ip', ['-n', s.ns, 'addr', 'add', `${s.a4}/30`, 'dev', DEVICE])
      if (ipv6) await run('ip', ['-n', s.ns, 'addr', 'add', `${s.a6}/64`, 'dev', DEVICE, 'nodad'])
      // TUN's queue between the qdisc and the emulator is txqueuelen packets;
      // 500 is ~6 ms at 1 Gbit/s, less than a scheduler hiccup on 2 cores.
      await run('ip', ['-n', s.ns, 'link', 'set', DEVICE, 'up', 'txqueuelen', '5000'])
      if (tbf && opts.rateMbit !== undefined) {
        await exec(s.ns, 'tc', [
          'qdisc', 'add', 'dev', DEVICE, 'root', 'tbf',
          'rate', `${opts.rateMbit}mbit`, 'burst', String(tbf.burstBytes), 'latency', `${tbf.latencyMs}ms`,
        ])
      }
    }

    if (via === 'veth') await waitForCarrier(clientNs, serverNs)

    const frameBytes = via === 'tun' ? 1500 : 1514
    return {
      serverNs,
      clientNs,
      device: DEVICE,
      via,
      serverAddr4: ADDR.server4,
      clientAddr4: ADDR.client4,
      ...(ipv6 ? { serverAddr6: ADDR.server6, clientAddr6: ADDR.client6 } : {}),
      ...(opts.rateMbit !== undefined
        ? { rateMbit: opts.rateMbit, goodputCeilingMbps: (opts.rateMbit * 1448) / frameBytes, tbf }
        : {}),
      rttMs,
      exec,
      spawn,
      emulatorStats: () => emulator?.stderr().trim() ?? '',
      destroy,
    }
  } catch (e) {
    await destroy()
    throw e
  }
}
