import https from 'node:https'
import net from 'node:net'
import { rootCertificates } from 'node:tls'

/**
 * The two connection probes of the service checks. Each forces the address family by
 * connecting to the literal address with `family` set, and never falls back to the other
 * family (methodology.md §10; blackbox_exporter#302 is what silent fallback looks like).
 */

export type ProbeOutcome<T> = ({ ok: true } & T) | { ok: false, error: string, detail: string }

export interface HttpsProbeInput {
  address: string
  family: 4 | 6
  host: string
  port: number
  timeoutMs: number
  /** Extra trusted CAs (PEM), added to the system roots. */
  ca?: string | undefined
}

function errorCode (err: unknown): string {
  const e = err as NodeJS.ErrnoException
  if (typeof e.code === 'string') {
    if (/^(ERR_TLS|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO|ERR_SSL|HOSTNAME)/.test(e.code) || /certificate|altname/i.test(e.message)) return 'tls_error'
    if (e.code === 'ECONNREFUSED') return 'refused'
    if (e.code === 'ENETUNREACH' || e.code === 'EHOSTUNREACH' || e.code === 'EADDRNOTAVAIL') return 'unreachable'
    if (e.code === 'ECONNRESET') return 'reset'
    return e.code.toLowerCase()
  }
  return 'error'
}

/** GET / on the literal address with SNI and Host set to the name; the status and certificate outcome. */
export function httpsStatus (input: HttpsProbeInput): Promise<ProbeOutcome<{ status: number }>> {
  return new Promise((resolve) => {
    let settled = false
    const finish = (outcome: ProbeOutcome<{ status: number }>): void => {
      if (settled) return
      settled = true
      resolve(outcome)
    }
    const req = https.request({
      host: input.address,
      family: input.family,
      port: input.port,
      servername: input.host,
      method: 'GET',
      path: '/',
      headers: { host: input.host, 'user-agent': 'tocdo-ipv6-prober', accept: '*/*' },
      agent: false,
      rejectUnauthorized: true,
      ...(input.ca === undefined ? {} : { ca: [...rootCertificates, input.ca] }),
      timeout: input.timeoutMs
    }, (res) => {
      finish({ ok: true, status: res.statusCode ?? 0 })
      res.destroy()
    })
    req.on('timeout', () => {
      finish({ ok: false, error: 'timeout', detail: `no response from [${input.address}]:${input.port} in ${input.timeoutMs} ms` })
      req.destroy()
    })
    req.on('error', (err) => finish({ ok: false, error: errorCode(err), detail: err.message }))
    req.end()
  })
}

export interface SmtpProbeInput { address: string, port: number, heloName: string, timeoutMs: number }

/**
 * Reads the SMTP banner, sends EHLO and QUIT. Passing needs a 220 banner and a 250 reply
 * to EHLO (RFC 5321 §4.1.1.1); no mail is sent.
 */
export function smtpProbe (input: SmtpProbeInput): Promise<ProbeOutcome<{ banner: string, ehlo: string }>> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: input.address, port: input.port, family: net.isIPv6(input.address) ? 6 : 4 })
    let buffer = ''
    let banner: string | null = null
    let settled = false
    const finish = (outcome: ProbeOutcome<{ banner: string, ehlo: string }>): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(outcome)
    }
    const timer = setTimeout(() => finish({ ok: false, error: 'timeout', detail: banner === null ? 'no SMTP banner' : 'no reply to EHLO' }), input.timeoutMs)
    socket.setEncoding('latin1')
    socket.on('error', (err) => finish({ ok: false, error: errorCode(err), detail: err.message }))
    socket.on('close', () => finish({ ok: false, error: 'closed', detail: 'connection closed before EHLO was answered' }))
    socket.on('data', (chunk: string) => {
      buffer += chunk
      // A reply is complete at a line "NNN text" (no hyphen after the code).
      const lines = buffer.split('\r\n')
      const last = lines.findIndex((l) => /^\d{3}( |$)/.test(l))
      if (last === -1) return
      const reply = lines.slice(0, last + 1).join('\n')
      buffer = lines.slice(last + 1).join('\r\n')
      if (banner === null) {
        if (!reply.startsWith('220')) { finish({ ok: false, error: 'bad_banner', detail: reply.slice(0, 200) }); return }
        banner = reply
        socket.write(`EHLO ${input.heloName}\r\n`)
        return
      }
      if (!/^250/.test(reply)) { finish({ ok: false, error: 'ehlo_refused', detail: reply.slice(0, 200) }); return }
      socket.write('QUIT\r\n')
      finish({ ok: true, banner: banner.slice(0, 200), ehlo: reply.split('\n')[0]?.slice(0, 200) ?? '' })
    })
  })
}
