import net from 'node:net'

/** A loopback SMTP greeter: banner, EHLO reply, QUIT. Enough for the MX-over-IPv6 check. */
export async function startSmtpServer ({ address = '::1', banner = '220 mx.test ESMTP tocdo-test', ehloReply = '250-mx.test\r\n250 SIZE 10240000' }: {
  address?: string, banner?: string, ehloReply?: string
} = {}): Promise<{ port: number, sessions: string[][], close: () => Promise<void> }> {
  const sessions: string[][] = []
  const server = net.createServer((socket) => {
    const lines: string[] = []
    sessions.push(lines)
    socket.on('error', () => {})
    socket.setEncoding('latin1')
    socket.write(`${banner}\r\n`)
    let buffer = ''
    socket.on('data', (chunk: string) => {
      buffer += chunk
      let i: number
      while ((i = buffer.indexOf('\r\n')) !== -1) {
        const line = buffer.slice(0, i)
        buffer = buffer.slice(i + 2)
        lines.push(line)
        if (/^EHLO /i.test(line)) socket.write(`${ehloReply}\r\n`)
        else if (/^QUIT/i.test(line)) socket.end('221 bye\r\n')
        else socket.write('502 not implemented\r\n')
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, address, resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    sessions,
    close: async () => { await new Promise<void>((resolve) => server.close(() => resolve())) }
  }
}
