/**
 * A competing flow for fault tests: `send <host> <port> <mbit>` sends 1400-byte UDP
 * datagrams at a steady rate (no congestion control, so it keeps its share against the
 * test's TCP); `sink <host> <port>` receives and discards them, so the receiver answers with
 * no ICMP. Runs until killed.
 */
import { createSocket } from 'node:dgram'
import { isIPv6 } from 'node:net'

const [mode, host, portText, mbitText] = process.argv.slice(2)
const port = Number(portText)
if ((mode !== 'send' && mode !== 'sink') || host === undefined || !(port > 0)) {
  process.stderr.write('usage: udp-flow send <host> <port> <mbit> | sink <host> <port>\n')
  process.exit(2)
}
const sock = createSocket(isIPv6(host) ? 'udp6' : 'udp4')
if (mode === 'sink') {
  sock.on('message', () => {})
  sock.bind(port, host, () => { process.stdout.write('ready\n') })
} else {
  const mbit = Number(mbitText)
  const datagram = Buffer.alloc(1400, 0x5a)
  const tickMs = 5
  const start = performance.now()
  let sent = 0
  process.stdout.write('ready\n')
  // Catch up to the rate on every tick, so timer lateness does not lower it.
  setInterval(() => {
    const due = Math.floor(((performance.now() - start) / 1000) * mbit * 1e6 / 8 / datagram.length)
    for (; sent < due; sent++) sock.send(datagram, port, host)
  }, tickMs)
}
