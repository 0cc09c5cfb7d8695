import { createGunzip } from 'node:zlib'
import { PassThrough, Transform, type Readable } from 'node:stream'
import type { FastifyRequest, FastifyReply } from 'fastify'
import { TocdoError } from '../../shared/errors.js'

/**
 * preParsing hook for routes that accept `Content-Encoding: gzip` (the sync call). The
 * body limit then applies to the decoded bytes, as Fastify compares both the decoded length
 * and `receivedEncodedLength` against it: a zip bomb stops at the limit, a compressed body
 * larger than the limit is refused before it is read (by Content-Length), and a truncated
 * or corrupt stream is a 400 before the handler runs, so nothing of it is stored.
 */
export async function decodeGzip (request: FastifyRequest, _reply: FastifyReply, payload: Readable): Promise<Readable> {
  const encoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase().trim()
  if (encoding === 'identity' || encoding === '') return payload
  if (encoding !== 'gzip') {
    throw new TocdoError('TOCDO_ERR_UNSUPPORTED_MEDIA_TYPE', `content-encoding "${encoding}" is not supported; send gzip or identity`, { details: { field: 'headers/content-encoding' } })
  }
  let encoded = 0
  const counter = new Transform({
    transform (chunk: Buffer, _enc, done) { encoded += chunk.length; done(null, chunk) }
  })
  const gunzip = createGunzip()
  const out = new PassThrough()
  Object.defineProperty(out, 'receivedEncodedLength', { get: () => encoded })
  // When Fastify refuses by Content-Length it never reads `out`; the error must not be uncaught.
  out.on('error', () => {})
  let failed = false
  const fail = (err: Error): void => {
    if (failed) return
    failed = true
    out.destroy(new TocdoError('TOCDO_ERR_VALIDATION', `body: gzip stream is corrupt or truncated (${err.message}); nothing was stored, resend the batch`, { details: { field: 'body' } }))
  }
  payload.on('error', fail)
  counter.on('error', fail)
  gunzip.on('error', fail)
  payload.pipe(counter).pipe(gunzip).pipe(out)
  return out
}
