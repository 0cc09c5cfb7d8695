import { readFileSync } from 'node:fs'
import tls from 'node:tls'
import { Agent, ProxyAgent, type Dispatcher } from 'undici'
import { TocdoError } from '../../shared/errors.js'
import { commandProblem, execRunner, utf8Console, type CommandRunner } from '../platform/command.js'

/**
 * Which HTTP(S) proxy the agent's calls to the collector go through (docs/agent.md, "Proxy
 * and private CA"). Precedence: the agent's `proxy` setting (a URL, or "direct" for none),
 * then HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment, then on Windows the
 * machine's proxy: WinHTTP (`netsh winhttp show proxy`, what services use), then the
 * Internet Settings in the registry (`reg query`, policy first). Services do not inherit a
 * user's proxy, so the machine's settings are read explicitly. No native addon is needed.
 */
export interface ProxySettings {
  /** Proxy for http:// and https:// URLs; null: direct. */
  http: string | null
  https: string | null
  /** Hosts reached directly (comma or semicolon separated; `*`, `.suffix`, `*.suffix`, `host:port`, `<local>`, globs such as `10.*`). */
  noProxy: string
  /** Where the settings came from, for `status` and the logs. */
  source: string
  /** Something the reader saw but cannot use (a PAC script URL). */
  note?: string
}

export const DIRECT: ProxySettings = { http: null, https: null, noProxy: '', source: 'none' }

const withScheme = (v: string): string => /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `http://${v}`

/** `host:port`, or `http=h:p;https=h:p` (WinHTTP and Internet Settings' per-scheme form). */
export function parseProxyList (value: string): { http: string | null, https: string | null } {
  const v = value.trim()
  if (!v.includes('=')) return { http: withScheme(v), https: withScheme(v) }
  const parts = Object.fromEntries(v.split(/[;\s]+/).filter((p) => p.includes('=')).map((p) => {
    const i = p.indexOf('=')
    return [p.slice(0, i).toLowerCase(), p.slice(i + 1)]
  }))
  const http = parts.http ?? null
  const https = parts.https ?? parts.http ?? null
  return { http: http === null ? null : withScheme(http), https: https === null ? null : withScheme(https) }
}

/**
 * `netsh winhttp show proxy`. Its labels are translated on localised Windows, so the parser
 * relies on the layout only: no "label : value" line means direct access; otherwise the first
 * such line holds the proxy server(s) and the second the bypass list (a value in parentheses,
 * such as "(none)", means an empty list).
 */
export function parseNetshWinhttp (text: string): { server: string, bypass: string } | null {
  const rows = text.split(/\r?\n/).map((l) => /^\s*(\S.*?)\s+:\s+(\S.*?)\s*$/.exec(l)).filter((m) => m !== null)
  const server = rows[0]?.[2]
  if (server === undefined || server.startsWith('(')) return null
  const bypass = rows[1]?.[2] ?? ''
  return { server, bypass: bypass.startsWith('(') ? '' : bypass }
}

/** `reg query <key>` output: `    Name    REG_TYPE    value` lines (names and types are never translated). */
export function parseRegQuery (text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s+(\S+)\s+(REG_[A-Z_]+)\s+(.*?)\s*$/.exec(line)
    if (m !== null) out[m[1] as string] = m[3] as string
  }
  return out
}

const REG_KEYS = [
  'HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\CurrentVersion\\Internet Settings',
  'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings',
  'HKCU\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings'
]

/** The Windows machine proxy, or null when every source says direct (or cannot be read). */
export async function windowsSystemProxy (run: CommandRunner): Promise<ProxySettings | null> {
  const [file, args] = utf8Console('netsh winhttp show proxy')
  const winhttp = await run(file, args)
  if (commandProblem('netsh', winhttp) === null) {
    const p = parseNetshWinhttp(winhttp.stdout)
    if (p !== null) return { ...parseProxyList(p.server), noProxy: p.bypass, source: 'Windows WinHTTP proxy (netsh winhttp show proxy)' }
  }
  let note: string | undefined
  for (const key of REG_KEYS) {
    const out = await run('reg.exe', ['query', key])
    if (out.code !== 0) continue
    const v = parseRegQuery(out.stdout)
    if (v.AutoConfigURL !== undefined && note === undefined) note = `a proxy auto-configuration script is set (${v.AutoConfigURL}) and is not evaluated; set "proxy" in the agent config`
    if (v.ProxyServer !== undefined && v.ProxyServer !== '' && Number(v.ProxyEnable ?? '0x1') !== 0) {
      return { ...parseProxyList(v.ProxyServer), noProxy: v.ProxyOverride ?? '', source: `Windows Internet Settings (${key})`, ...(note === undefined ? {} : { note }) }
    }
  }
  return note === undefined ? null : { ...DIRECT, source: 'none', note }
}

export interface ProxyInputs {
  /** The agent's `proxy` setting: a URL, "direct", or null to look further. */
  proxy: string | null
  noProxy: string | null
  env: Record<string, string | undefined>
  platform?: NodeJS.Platform
  run?: CommandRunner
}

const envOf = (env: Record<string, string | undefined>, name: string): string | undefined => {
  const v = env[name] ?? env[name.toLowerCase()]
  return v === undefined || v.trim() === '' ? undefined : v.trim()
}

export async function resolveProxy ({ proxy, noProxy, env, platform = process.platform, run }: ProxyInputs): Promise<ProxySettings> {
  if (proxy !== null) {
    if (proxy === 'direct') return { ...DIRECT, source: 'agent setting "proxy": direct' }
    return { http: proxy, https: proxy, noProxy: noProxy ?? envOf(env, 'NO_PROXY') ?? '', source: 'agent setting "proxy"' }
  }
  const https = envOf(env, 'HTTPS_PROXY')
  const http = envOf(env, 'HTTP_PROXY')
  if (https !== undefined || http !== undefined) {
    return { http: http === undefined ? null : withScheme(http), https: withScheme((https ?? http) as string), noProxy: noProxy ?? envOf(env, 'NO_PROXY') ?? '', source: `environment (${https !== undefined ? 'HTTPS_PROXY' : 'HTTP_PROXY'})` }
  }
  if (platform === 'win32' && run !== undefined) {
    const sys = await windowsSystemProxy(run)
    if (sys !== null) return noProxy === null ? sys : { ...sys, noProxy }
  }
  return DIRECT
}

function globMatch (pattern: string, host: string): boolean {
  const re = new RegExp('^' + pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$', 'i')
  return re.test(host)
}

/** Whether `url` is reached without the proxy, by the rules of `noProxy` (curl's and Windows' forms). */
export function bypassesProxy (url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  const port = url.port !== '' ? url.port : url.protocol === 'https:' ? '443' : '80'
  for (const raw of noProxy.split(/[,;\s]+/)) {
    let entry = raw.trim().toLowerCase()
    if (entry === '') continue
    if (entry === '*') return true
    if (entry === '<local>') { if (!host.includes('.') && !host.includes(':')) return true; continue }
    const bracketed = /^\[(.*)\](?::(\d+))?$/.exec(entry)
    const hostPort = bracketed !== null ? [bracketed[1] as string, bracketed[2]] : entry.split(':').length === 2 ? entry.split(':') : [entry, undefined]
    entry = hostPort[0] as string
    if (hostPort[1] !== undefined && hostPort[1] !== port) continue
    if (entry.includes('*') && !/^\*\.[^*]+$/.test(entry)) { if (globMatch(entry, host)) return true; continue }
    const suffix = entry.replace(/^\*?\./, '')
    if (host === suffix || host.endsWith('.' + suffix)) return true
  }
  return false
}

/** The proxy a request to `url` goes through, or null for a direct connection. */
export function proxyFor (url: string | URL, settings: ProxySettings): string | null {
  const u = typeof url === 'string' ? new URL(url) : url
  const proxy = u.protocol === 'https:' ? settings.https : settings.http
  if (proxy === null) return null
  return bypassesProxy(u, settings.noProxy) ? null : proxy
}

/** A proxy URL for display: credentials hidden. */
export function maskProxy (proxy: string): string {
  try {
    const u = new URL(proxy)
    if (u.username !== '' || u.password !== '') { u.username = '***'; u.password = '' }
    return u.toString().replace(/\/$/, '')
  } catch { return proxy }
}

/** The certificates to trust for the collector: the system's plus the agent's `caFile`. */
export function loadCa (caFile: string | null): string[] | undefined {
  if (caFile === null) return undefined
  let pem: string
  try { pem = readFileSync(caFile, 'utf8') } catch (err) {
    throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `caFile ${caFile} cannot be read (${(err as Error).message}); give the path of the collector's CA certificate in PEM form`, { cause: err })
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new TocdoError('TOCDO_ERR_CONFIG_INVALID', `caFile ${caFile} holds no PEM certificate ("-----BEGIN CERTIFICATE-----"); convert a .cer/.der file with: openssl x509 -inform der -in ca.cer -out ca.pem`)
  }
  return [...tls.rootCertificates, pem]
}

/**
 * The dispatcher for calls to `collector`: a ProxyAgent when a proxy applies (CONNECT tunnel
 * for https, so TLS stays end to end), else a plain Agent; both trust `ca` when given.
 */
export function collectorDispatcher (collector: string, settings: ProxySettings, ca?: string[]): { dispatcher: Dispatcher, proxy: string | null } {
  const proxy = proxyFor(collector, settings)
  const connect = ca === undefined ? {} : { ca }
  if (proxy === null) return { dispatcher: new Agent({ connect }), proxy }
  return { dispatcher: new ProxyAgent({ uri: proxy, requestTls: connect, proxyTls: connect }), proxy }
}

/**
 * Trusts `caFile` process-wide where Node can (tls.setDefaultCACertificates, Node 22.19+ and
 * 24.5+, the packaged Node), so https test servers under the same private CA verify too;
 * older Node trusts it for collector calls only (NODE_EXTRA_CA_CERTS covers the rest).
 */
export function applyCa (caFile: string | null): string[] | undefined {
  const ca = loadCa(caFile)
  const setDefault = (tls as { setDefaultCACertificates?: (certs: string[]) => void }).setDefaultCACertificates
  if (ca !== undefined && typeof setDefault === 'function') setDefault(ca)
  return ca
}

export interface CollectorRoute { dispatcher: Dispatcher, proxy: string | null, settings: ProxySettings }

/** Everything the agent needs to reach its collector: proxy choice (settings, env, Windows machine proxy) and CA. */
export async function collectorRoute (collector: string, cfg: { proxy: string | null, noProxy: string | null, caFile: string | null }, { env = process.env, platform = process.platform, run = execRunner }: { env?: Record<string, string | undefined>, platform?: NodeJS.Platform, run?: CommandRunner } = {}): Promise<CollectorRoute> {
  const settings = await resolveProxy({ proxy: cfg.proxy, noProxy: cfg.noProxy, env, platform, run })
  return { ...collectorDispatcher(collector, settings, applyCa(cfg.caFile)), settings }
}
