/**
 * A reverse proxy in the test's path, as a front-end cache or a corporate gateway would be:
 * `via-proxy <listen host> <listen port> <target origin>` forwards every request with
 * `Via: 1.1 test-proxy` and `X-Forwarded-For`, streams bodies both ways, and adds `Via` to
 * the responses (RFC 9110 §7.6.3).
 *
 * `via-proxy <host> <port> <target> transparent <holdBytes>` is a proxy that says nothing: no
 * header added either way, and it reads each response ahead of the agent, holding up to
 * `holdBytes` of it, as a buffering middlebox does. Only the byte counts can tell.
 *
 * Prints `ready` when listening; runs until killed.
 */
import http from 'node:http'

const [host, portText, target, mode, holdText] = process.argv.slice(2)
if (host === undefined || portText === undefined || target === undefined || (mode !== undefined && (mode !== 'transparent' || !(Number(holdText) > 0)))) {
  process.stderr.write('usage: via-proxy <host> <port> <target origin> [transparent <holdBytes>]\n')
  process.exit(2)
}
const transparent = mode === 'transparent'
const hold = Number(holdText)
const upstream = new URL(target)
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })

const server = http.createServer((req, res) => {
  const headers = transparent ? req.headers : { ...req.headers, via: '1.1 test-proxy', 'x-forwarded-for': req.socket.remoteAddress ?? '' }
  const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent }, (up) => {
    res.writeHead(up.statusCode ?? 502, transparent ? up.headers : { ...up.headers, via: '1.1 test-proxy' })
    if (!transparent) { up.pipe(res); return }
    // Read ahead: pause the upstream only once `hold` bytes wait for the agent.
    up.on('data', (chunk: Buffer) => {
      res.write(chunk)
      if (res.writableLength > hold) up.pause()
    })
    res.on('drain', () => { up.resume() })
    up.on('end', () => { res.end() })
  })
  out.on('error', () => { res.destroy() })
  res.on('close', () => { out.destroy() })
  req.pipe(out)
})
server.keepAliveTimeout = 30_000
server.listen(Number(portText), host, () => { process.stdout.write('ready\n') })
