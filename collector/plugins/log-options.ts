import type { FastifyServerOptions } from 'fastify'

/**
 * What the collector's log may contain (issue 11): no bearer token, cookie, enrolment code or
 * query string. A token someone put in a query string (`?token=…`) would otherwise be written
 * verbatim with the URL, so request URLs are logged without their query; headers that carry
 * credentials and every property named like a secret are replaced by "[Redacted]".
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  '*.token',
  '*.adminToken',
  '*.enrolment.code',
  'enrolment.code',
  '*.password'
]

/** The request URL without its query string, for logs. */
export function logUrl (url: string): string {
  const q = url.indexOf('?')
  return q === -1 ? url : `${url.slice(0, q)}?[redacted]`
}

interface RawRequestLike { method?: string, url?: string, ip?: string, hostname?: string, socket?: { remotePort?: number } }

export const logSerializers = {
  req: (req: RawRequestLike) => ({
    method: req.method,
    url: logUrl(req.url ?? ''),
    host: req.hostname,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort
  })
}

export function collectorLoggerOptions (level: string, pretty: boolean): Exclude<FastifyServerOptions['logger'], boolean | undefined> {
  return {
    level,
    redact: REDACT_PATHS,
    serializers: logSerializers,
    // Readable lines for a person at a terminal; JSON lines for files and log collectors.
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } } : {})
  }
}
