import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { TocdoError } from '../../shared/errors.js'
import { installPage, INSTALL_PAGE_CSP, type Lang } from './install-page.js'
import { installScript } from './install-script.js'
import { contentTypeOf, MANIFEST_FILE, PackageShelf, SUMS_FILE } from './packages.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The agent packages this collector serves (downloads/packages.ts). */
    packages: PackageShelf
  }
}

/**
 * Agent installation, served by the collector (docs/agent.md): /install (the page),
 * /install.sh (the Linux one-liner's script), /downloads/manifest.json, /downloads/SHA256SUMS
 * and /downloads/<package>. Every package response carries its SHA-256 (Repr-Digest,
 * RFC 9530, and X-Checksum-Sha256) from the checked manifest. Without built packages the
 * page says how to build them and the downloads answer 404 saying the same.
 */
async function downloads (fastify: FastifyInstance, opts: { dir: string, publicUrl: string }): Promise<void> {
  const shelf = new PackageShelf(opts.dir)
  fastify.decorate('packages', shelf)

  fastify.get('/install', {
    schema: { hide: true, querystring: { type: 'object', properties: { lang: { type: 'string', enum: ['vi', 'en'] } } } },
    // A route hook runs after the app's own onSend hooks, so this page's policy (its inline
    // style allowed by hash, nothing else) replaces the default one.
    onSend: async (_request, reply) => { reply.header('content-security-policy', INSTALL_PAGE_CSP) }
  }, async (request, reply) => {
    const lang: Lang = (request.query as { lang?: Lang }).lang ?? 'vi'
    const s = await shelf.load()
    return await reply
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(installPage(lang, opts.publicUrl, s.ok ? s.manifest : null, s.ok ? null : s.problem))
  })

  fastify.get('/install.sh', { schema: { hide: true } }, async (_request, reply) => {
    const s = await shelf.load()
    return await reply.header('cache-control', 'no-cache').type('text/plain; charset=utf-8')
      .send(installScript(opts.publicUrl, s.ok ? s.manifest : null, s.ok ? null : s.problem))
  })

  fastify.get('/downloads/:file', { schema: { hide: true, params: { type: 'object', properties: { file: { type: 'string', maxLength: 200 } }, required: ['file'] } } }, async (request, reply) => {
    const { file } = request.params as { file: string }
    const s = await shelf.load()
    if (!s.ok) throw new TocdoError('TOCDO_ERR_NOT_FOUND', s.problem)
    if (file === MANIFEST_FILE) return await reply.header('cache-control', 'no-cache').type(contentTypeOf(file)).send(s.manifest)
    if (file === SUMS_FILE) {
      const path = join(s.dir, SUMS_FILE)
      const size = await stat(path).then((x) => x.size, () => null)
      if (size === null) throw new TocdoError('TOCDO_ERR_NOT_FOUND', `${SUMS_FILE} is missing in ${s.dir}; rebuild the packages with "npm run package"`)
      return await reply.type(contentTypeOf(file)).header('content-length', size).send(createReadStream(path))
    }
    const entry = s.files.get(file)
    if (entry === undefined) throw new TocdoError('TOCDO_ERR_NOT_FOUND', `no package named ${file} on this collector; the files are listed in /downloads/manifest.json and on /install`)
    return await reply
      .type(contentTypeOf(file))
      .header('content-length', entry.bytes)
      .header('content-disposition', `attachment; filename="${file}"`)
      .header('repr-digest', `sha-256=:${Buffer.from(entry.sha256, 'hex').toString('base64')}:`)
      .header('x-checksum-sha256', entry.sha256)
      .header('cache-control', 'no-cache')
      .send(createReadStream(join(s.dir, file)))
  })
}

export const downloadsPlugin = fp(downloads, { name: 'tocdo-downloads' })
