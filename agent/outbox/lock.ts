import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { TocdoError } from '../../shared/errors.js'

export const LOCK_FILE = 'agent.lock'

/** Locks this process holds: a file naming our own pid is ours only if it is in here (else a previous life with the same pid, e.g. pid 1 in a container). */
const held = new Set<string>()

function alive (pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try { process.kill(pid, 0); return true } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM' }
}

/**
 * One flusher per data dir (fleet-protocol.md §6): two agents sending the same rows would
 * double every upload. The lock file holds the owner's pid; a lock left by a process that no
 * longer exists (kill -9, power loss) is taken over.
 */
export function acquireLock (dataDir: string, pid = process.pid): { release: () => void } {
  // The lock is the first thing an agent touches in a fresh data dir (the demo, a first `run`).
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const file = join(dataDir, LOCK_FILE)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600)
      writeSync(fd, String(pid))
      closeSync(fd)
      let released = false
      held.add(file)
      return {
        release: () => {
          if (released) return
          released = true
          held.delete(file)
          try { if (readFileSync(file, 'utf8').trim() === String(pid)) unlinkSync(file) } catch {}
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      let owner = NaN
      try { owner = Number(readFileSync(file, 'utf8').trim()) } catch {}
      if (owner === pid ? held.has(file) : alive(owner)) {
        throw new TocdoError('TOCDO_ERR_CONFLICT', `another tocdo agent (pid ${owner}) is already running with data dir ${dataDir}; stop it first, or give this one its own --data-dir`)
      }
      try { unlinkSync(file) } catch {}
    }
  }
  throw new TocdoError('TOCDO_ERR_CONFLICT', `cannot take the lock ${file}`)
}
