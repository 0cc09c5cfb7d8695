import { execFileSync, spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:tls'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnCollector, type CollectorProcess } from '../helpers/collector-process.js'
import { startTempCollector } from '../helpers/temp-collector.js'
import { until } from '../helpers/until.js'

/**
 * Issue 11: the collector serves HTTPS itself and takes a renewed certificate without a
 * restart (file change, SIGHUP); behind the nginx configuration docs/reverse-proxy gives, the
 * rate limits key on the real client address (trustProxy). Certificates come from openssl.
 */
const ADMIN = 'tls-proxy-admin-token-0123456789abcdef'
const dir = mkdtempSync(join(tmpdir(), 'tocdo-tls-'))
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

function makeCert (name: string): { cert: string, key: string, fingerprint: string } {
  const cert = join(dir, `${name}.crt`)
  const key = join(dir, `${name}.key`)
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' })
  const fp = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' })
  return { cert, key, fingerprint: (fp.split('=')[1] as string).trim() }
}

/** The SHA-256 fingerprint of the certificate a TLS server presents now, as openssl prints it. */
async function servedFingerprint (port: number): Promise<string> {
  return await new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fp = s.getPeerCertificate().fingerprint256
      s.end()
      resolve(fp)
    })
    s.on('error', reject)
  })
}

async function freePort (): Promise<number> {
  return await new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p)) ?? 'nginx'

describe('HTTPS served by the collector', () => {
  let a: ReturnType<typeof makeCert>
  let b: ReturnType<typeof makeCert>
  let c: ReturnType<typeof makeCert>
  const live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') }
  beforeAll(() => {
    a = makeCert('cert-a'); b = makeCert('cert-b'); c = makeCert('cert-c')
    copyFileSync(a.cert, live.cert); copyFileSync(a.key, live.key)
  })

  it('serves the configured certificate and picks up a renewed one when the files change, without a restart', async () => {
    const col = await startTempCollector({ adminToken: ADMIN, tlsCertFile: live.cert, tlsKeyFile: live.key })
    try {
      expect(col.url).toMatch(/^https:/)
      const port = Number(new URL(col.url).port)
      expect(await servedFingerprint(port)).toBe(a.fingerprint)
      const health = await request(`${col.url}/healthz`, { dispatcher: new Agent({ connect: { ca: readFileSync(a.cert) } }) })
      expect(health.statusCode).toBe(200)
      await health.body.dump()
      copyFileSync(b.key, live.key); copyFileSync(b.cert, live.cert)
      await until(async () => await servedFingerprint(port) === b.fingerprint, { timeoutMs: 30_000, what: 'the renewed certificate' })
      // A broken pair (key of another certificate) is refused; the served one stays.
      writeFileSync(live.cert, readFileSync(c.cert))
      expect(col.app.reloadTls()).toBe(false)
      expect(await servedFingerprint(port)).toBe(b.fingerprint)
    } finally { await col.close() }
  })

  it('the real process reloads on SIGHUP', async () => {
    copyFileSync(a.cert, live.cert); copyFileSync(a.key, live.key)
    const p: CollectorProcess = await spawnCollector({ dataDir: join(dir, 'data-hup'), env: { TOCDO_ADMIN_TOKEN: ADMIN, TOCDO_TLS_CERT_FILE: live.cert, TOCDO_TLS_KEY_FILE: live.key } })
    try {
      const port = Number(new URL(p.url).port)
      expect(await servedFingerprint(port)).toBe(a.fingerprint)
      copyFileSync(c.key, live.key); copyFileSync(c.cert, live.cert)
      p.proc.kill('SIGHUP')
      await until(async () => await servedFingerprint(port) === c.fingerprint, { timeoutMs: 30_000, what: 'the certificate after SIGHUP' })
      // The log line comes through the child's stdout pipe, which may trail the new handshake.
      await until(async () => p.stdout().includes('TLS certificate reloaded'), { timeoutMs: 30_000, what: 'the reload log line' })
    } finally {
      p.proc.kill('SIGTERM')
      await p.exited
    }
  })
})

describe('behind nginx with the configuration in docs/reverse-proxy', () => {
  it('reaches the collector over TLS, and rate limits key on each real client, not on nginx', async () => {
    const cert = makeCert('proxy')
    const col = await startTempCollector({ adminToken: ADMIN, trustProxy: '127.0.0.1', enrolRateLimitPerMin: 3 })
    const nginxPort = await freePort()
    const prefix = mkdtempSync(join(dir, 'nginx-'))
    const site = readFileSync('docs/reverse-proxy/nginx-tocdo.conf', 'utf8')
      .replace('server 127.0.0.1:8080;', `server 127.0.0.1:${new URL(col.url).port};`)
      .replace('listen 443 ssl http2;', `listen 127.0.0.1:${nginxPort} ssl http2;`)
      .replace('listen [::]:443 ssl http2;', '')
      .replace('/etc/ssl/tocdo/fullchain.pem', cert.cert)
      .replace('/etc/ssl/tocdo/privkey.pem', cert.key)
    writeFileSync(join(prefix, 'tocdo.conf'), site)
    writeFileSync(join(prefix, 'nginx.conf'), `pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy; fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  include ${prefix}/tocdo.conf;
}
`)
    const nginx = spawn(NGINX, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off; master_process off;'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let nginxErr = ''
    nginx.stderr.setEncoding('utf8').on('data', (d: string) => { nginxErr += d })
    const base = `https://127.0.0.1:${nginxPort}`
    // Two agencies' machines: different source addresses on the loopback network.
    const from = (localAddress: string): Agent => new Agent({ localAddress, connect: { ca: readFileSync(cert.cert), servername: 'localhost' } })
    const clientA = from('127.0.0.2')
    const clientB = from('127.0.0.3')
    const enrolVia = async (client: Agent): Promise<number> => {
      const r = await request(`${base}/api/v1/enroll`, {
        method: 'POST',
        dispatcher: client,
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.7' },
        body: JSON.stringify({ code: 'AAAAAAAAAAAAAAAA', hostname: 'pc', os: 'linux', arch: 'x64', agentVersion: '0.1.0' })
      })
      await r.body.dump()
      return r.statusCode
    }
    try {
      await until(async () => await request(`${base}/healthz`, { dispatcher: clientA }).then(async (r) => { await r.body.dump(); return r.statusCode === 200 }, () => false),
        { timeoutMs: 30_000, what: `nginx to answer (${nginxErr})` })
      // The dashboard comes through the proxy with its own headers.
      const page = await request(`${base}/dashboard/`, { dispatcher: clientA })
      expect(page.statusCode).toBe(200)
      expect(String(page.headers['content-security-policy'])).toContain("frame-ancestors 'none'")
      await page.body.dump()
      // Client A uses up its enrolment attempts (bad codes); client B, another agency behind the same proxy, is not affected.
      const a = [await enrolVia(clientA), await enrolVia(clientA), await enrolVia(clientA), await enrolVia(clientA)]
      expect(a).toEqual([400, 400, 400, 429])
      expect(await enrolVia(clientB)).toBe(400)
      // A forged X-Forwarded-For from the client is replaced by nginx, so it cannot pick another bucket.
      expect(await enrolVia(clientA)).toBe(429)
    } finally {
      nginx.kill('SIGTERM')
      await new Promise((resolve) => nginx.once('exit', resolve))
      await clientA.close(); await clientB.close()
      await col.close()
    }
  })
})
