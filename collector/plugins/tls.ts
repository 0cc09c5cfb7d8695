import { readFileSync, unwatchFile, watchFile } from 'node:fs'
import type { Server as HttpsServer } from 'node:https'
import type { FastifyBaseLogger } from 'fastify'
import { TocdoError } from '../../shared/errors.js'

export interface TlsFiles { certFile: string, keyFile: string }

/** Reads the PEM certificate (chain) and key, naming the file that cannot be read. */
export function readTlsFiles ({ certFile, keyFile }: TlsFiles): { cert: Buffer, key: Buffer } {
  const read = (file: string, what: string): Buffer => {
    try { return readFileSync(file) } catch (err) {
      throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `${what} ${file} cannot be read: ${(err as Error).message}`, { details: { field: what === 'certificate' ? 'tlsCertFile' : 'tlsKeyFile' } })
    }
  }
  return { cert: read(certFile, 'certificate'), key: read(keyFile, 'key') }
}

/**
 * Keeps an HTTPS server's certificate current without a restart: `reload()` swaps in the
 * files' current contents for new connections (open ones keep theirs); the files are also
 * watched (polled every `intervalMs`, which sees a renewal tool replacing them by rename or
 * a symlink switch as well as an in-place write). A pair that does not load (half-written,
 * key not matching) is logged and the served one kept, so a renewal in progress never takes
 * the collector down.
 */
export function tlsReloader (server: HttpsServer, files: TlsFiles, log: FastifyBaseLogger, { intervalMs = 2000 }: { intervalMs?: number } = {}): { reload: () => boolean, stop: () => void } {
  const reload = (): boolean => {
    try {
      const { cert, key } = readTlsFiles(files)
      server.setSecureContext({ cert, key })
      log.info({ certFile: files.certFile }, 'TLS certificate reloaded')
      return true
    } catch (err) {
      log.error({ err, certFile: files.certFile, keyFile: files.keyFile }, 'TLS certificate not reloaded; the previous one stays in use')
      return false
    }
  }
  const onChange = (curr: { mtimeMs: number }, prev: { mtimeMs: number }): void => { if (curr.mtimeMs !== prev.mtimeMs) reload() }
  watchFile(files.certFile, { interval: intervalMs, persistent: false }, onChange)
  watchFile(files.keyFile, { interval: intervalMs, persistent: false }, onChange)
  return {
    reload,
    stop: () => { unwatchFile(files.certFile, onChange); unwatchFile(files.keyFile, onChange) }
  }
}
