/**
 * A reverse proxy in the test's path, as a front-end cache or a corporate gateway would be:
 * `via-proxy <listen host> <listen port> <target origin>` forwards every request with
 * `Via: 1.1 test-proxy` and `X-Forwarded-For`, streams bodies both ways, and adds `Via` to
 * the responses (RFC 9110 §7.6.3). Prints `ready` when listening; runs until killed.
 */
import http from 'node:http'

const [host, portText, target] = process.argv.slice(2)
if (host === undefined || portText === undefined || target === undefined) {
  process.stderr.write('usage: via-proxy <host> <port> <target origin>\n')
  process.exit(2)
}
const upstream = new URL(target)
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })

const server = http.createServer((req, res) => {
  const headers = { ...req.headers, via: '1.1 test-proxy', 'x-forwarded-for': req.socket.remoteAddress ?? '' }
  const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent }, (up) => {
    res.writeHead(up.statusCode ?? 502, { ...up.headers, via: '1.1 test-proxy' })
    up.pipe(res)
  })
  out.on('error', () => { res.destroy() })
  res.on('close', () => { out.destroy() })
  req.pipe(out)
})
server.keepAliveTimeout = 30_000
server.listen(Number(portText), host, () => { process.stdout.write('ready\n') })
