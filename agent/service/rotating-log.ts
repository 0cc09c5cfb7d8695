import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'

/**
 * A log file that rotates by size: agent.log, agent.log.1 … agent.log.<keep>. Used by the
 * Windows supervisor, which has no journald to hand its output to (on Linux, systemd's journal
 * keeps and rotates the service's output). Writes are synchronous so nothing is lost when the
 * process is ended right after a line.
 */
export class RotatingLog {
  readonly file: string
  private readonly maxBytes: number
  private readonly keep: number
  private fd: number
  private size: number

  constructor (dir: string, { name = 'agent.log', maxBytes = 10 * 1024 * 1024, keep = 5 }: { name?: string, maxBytes?: number, keep?: number } = {}) {
    mkdirSync(dir, { recursive: true })
    this.file = join(dir, name)
    this.maxBytes = maxBytes
    this.keep = keep
    this.fd = openSync(this.file, 'a')
    this.size = fstatSync(this.fd).size
  }

  write (chunk: string | Buffer): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    if (this.size > 0 && this.size + buf.length > this.maxBytes) this.rotate()
    writeSync(this.fd, buf)
    this.size += buf.length
  }

  private rotate (): void {
    closeSync(this.fd)
    rmSync(`${this.file}.${this.keep}`, { force: true })
    for (let i = this.keep - 1; i >= 1; i--) {
      try { renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`) } catch {}
    }
    renameSync(this.file, `${this.file}.1`)
    this.fd = openSync(this.file, 'a')
    this.size = 0
  }

  close (): void { closeSync(this.fd) }
}
