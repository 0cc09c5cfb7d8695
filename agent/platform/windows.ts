import { commandProblem, powershell, utf8Console, type CommandRunner } from './command.js'

/**
 * Windows readers for the measurement's platform facts (methodology.md §4 phase 0, §11),
 * through commands every Windows 10/11 has, no native addon:
 *   - interface byte counters: PowerShell Get-NetAdapterStatistics (per adapter), else
 *     `netstat -e` (one total for all interfaces);
 *   - kind and link speed: Get-NetAdapter (NdisPhysicalMedium, Receive/TransmitLinkSpeed);
 *   - Wi-Fi: `netsh wlan show interfaces` (signal, radio type, rates), when PowerShell is
 *     not available or to describe the Wi-Fi link.
 * Output is parsed by numbers, enumerations and layout where it can be, because Windows
 * translates the labels (a Vietnamese Windows prints Vietnamese ones); where a label must
 * be read, the English and Vietnamese forms are both known.
 */

export interface AdapterCounters { rxBytes: number, txBytes: number }

/** Every adapter's byte totals as JSON; -Compress keeps the output on one line. */
export const ADAPTER_STATISTICS_SCRIPT = 'Get-NetAdapterStatistics | Select-Object Name,ReceivedBytes,SentBytes | ConvertTo-Json -Compress'
export const ADAPTERS_SCRIPT = 'Get-NetAdapter | Select-Object Name,InterfaceDescription,Status,ReceiveLinkSpeed,TransmitLinkSpeed,NdisPhysicalMedium,MediaType,PhysicalMediaType,Virtual | ConvertTo-Json -Compress'

/** ConvertTo-Json prints one object, not an array, when there is one adapter; nothing at all when there is none. */
function jsonRows (text: string): Array<Record<string, unknown>> {
  const t = text.trim()
  if (t === '') return []
  const parsed: unknown = JSON.parse(t)
  const rows = Array.isArray(parsed) ? parsed : [parsed]
  return rows.filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null)
}

const count = (v: unknown): number | null => typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : null

export function parseAdapterStatistics (json: string): Record<string, AdapterCounters> {
  const out: Record<string, AdapterCounters> = {}
  for (const r of jsonRows(json)) {
    const rx = count(r.ReceivedBytes)
    const tx = count(r.SentBytes)
    if (typeof r.Name === 'string' && rx !== null && tx !== null) out[r.Name] = { rxBytes: rx, txBytes: tx }
  }
  return out
}

/**
 * `netstat -e`: the first row of two numbers is the byte row ("Bytes", translated on other
 * languages), received then sent, summed over every interface.
 */
export function parseNetstatE (text: string): AdapterCounters | null {
  for (const line of text.split(/\r?\n/)) {
    const m = /^\S.*?\s+(\d+)\s+(\d+)\s*$/.exec(line)
    if (m !== null) return { rxBytes: Number(m[1]), txBytes: Number(m[2]) }
  }
  return null
}

/** The name under which `netstat -e`'s all-interface total is kept. */
export const ALL_INTERFACES = '*'

export type WindowsCounters =
  | { source: 'get-netadapterstatistics' | 'netstat-e', ifaces: Record<string, AdapterCounters> }
  | { source: 'unavailable', reason: string, ifaces: Record<string, never> }

export async function readWindowsCounters (run: CommandRunner): Promise<WindowsCounters> {
  const [ps, psArgs] = powershell(ADAPTER_STATISTICS_SCRIPT)
  const stats = await run(ps, psArgs)
  const problems: string[] = []
  const psProblem = commandProblem('Get-NetAdapterStatistics', stats)
  if (psProblem === null) {
    try {
      const ifaces = parseAdapterStatistics(stats.stdout)
      if (Object.keys(ifaces).length > 0) return { source: 'get-netadapterstatistics', ifaces }
      problems.push('Get-NetAdapterStatistics listed no adapter')
    } catch (err) { problems.push(`Get-NetAdapterStatistics printed no JSON (${(err as Error).message})`) }
  } else problems.push(psProblem)
  const netstat = await run('netstat.exe', ['-e'])
  const nsProblem = commandProblem('netstat -e', netstat)
  if (nsProblem === null) {
    const total = parseNetstatE(netstat.stdout)
    if (total !== null) return { source: 'netstat-e', ifaces: { [ALL_INTERFACES]: total } }
    problems.push('netstat -e printed no byte counts')
  } else problems.push(nsProblem)
  return { source: 'unavailable', reason: `no interface byte counters: ${problems.join('; ')}`.slice(0, 300), ifaces: {} }
}

export type WindowsIfaceKind = 'ethernet' | 'wifi' | 'cellular' | 'unknown'

export interface WindowsAdapter {
  name: string
  description: string
  kind: WindowsIfaceKind
  /** The slower of the negotiated receive and transmit speeds, Mbit/s (10^6); null when unknown. */
  linkMbps: number | null
  up: boolean
}

/** NDIS_PHYSICAL_MEDIUM (ntddndis.h): 1 WirelessLan, 8 WirelessWan, 9 Native802_11, 14 802_3. */
function kindOfMedium (medium: unknown, physicalMediaType: unknown): WindowsIfaceKind {
  if (medium === 1 || medium === 9) return 'wifi'
  if (medium === 8) return 'cellular'
  if (medium === 14) return 'ethernet'
  // PhysicalMediaType is the same enumeration as text ("Native 802.11", "802.3", "Wireless WAN").
  if (typeof physicalMediaType === 'string') {
    if (/802\.11|wireless lan/i.test(physicalMediaType)) return 'wifi'
    if (/wireless wan|mobile broadband/i.test(physicalMediaType)) return 'cellular'
    if (/802\.3/.test(physicalMediaType)) return 'ethernet'
  }
  return 'unknown'
}

export function parseNetAdapter (json: string): WindowsAdapter[] {
  return jsonRows(json).flatMap((r) => {
    if (typeof r.Name !== 'string') return []
    const speeds = [count(r.ReceiveLinkSpeed), count(r.TransmitLinkSpeed)].filter((v): v is number => v !== null && v > 0)
    return [{
      name: r.Name,
      description: typeof r.InterfaceDescription === 'string' ? r.InterfaceDescription : '',
      kind: kindOfMedium(r.NdisPhysicalMedium, r.PhysicalMediaType),
      // Bits per second; a disconnected adapter reports 0, which means unknown here.
      linkMbps: speeds.length === 0 ? null : Math.min(...speeds) / 1e6,
      // Status is the English enum name in ConvertTo-Json output ("Up", "Disconnected"), not translated.
      up: r.Status === 'Up'
    }]
  })
}

export interface WlanInterface {
  name: string
  description: string
  connected: boolean
  ssid: string | null
  radioType: string | null
  signalPct: number | null
  receiveMbps: number | null
  transmitMbps: number | null
  channel: number | null
}

/**
 * Labels of `netsh wlan show interfaces` that are looked up by name: English and
 * Vietnamese. The Vietnamese ones are our rendering of Microsoft's layout, not captured
 * from a Vietnamese Windows; the parser does not depend on them for the facts it needs
 * (connected, signal, radio type, rates), which it also recognises by their values.
 */
const WLAN_LABELS: Record<string, keyof WlanInterface> = {
  ssid: 'ssid',
  'radio type': 'radioType',
  'loại radio': 'radioType',
  signal: 'signalPct',
  'tín hiệu': 'signalPct',
  'receive rate (mbps)': 'receiveMbps',
  'tốc độ nhận (mbps)': 'receiveMbps',
  'transmit rate (mbps)': 'transmitMbps',
  'tốc độ truyền (mbps)': 'transmitMbps',
  channel: 'channel',
  kênh: 'channel'
}

/**
 * One block per interface, `Label : value` lines, blocks separated by blank lines. The
 * first two lines of a block are the name and description; only a connected interface
 * has an SSID line; "(Mbps)" marks the two rate lines, receive first.
 */
export function parseNetshWlan (text: string): WlanInterface[] {
  const out: WlanInterface[] = []
  for (const block of text.split(/\r?\n\s*\r?\n/)) {
    const rows = block.split(/\r?\n/).map((l) => /^\s+(\S.*?)\s*:\s(.*)$/.exec(l)).filter((m) => m !== null).map((m) => ({ label: (m[1] as string).toLowerCase(), value: (m[2] as string).trim() }))
    if (rows.length < 4) continue
    const w: WlanInterface = { name: rows[0]?.value ?? '', description: rows[1]?.value ?? '', connected: false, ssid: null, radioType: null, signalPct: null, receiveMbps: null, transmitMbps: null, channel: null }
    const rates: number[] = []
    for (const { label, value } of rows.slice(2)) {
      const key = WLAN_LABELS[label]
      const num = Number(value.replace(',', '.'))
      if (key === 'ssid') w.ssid = value
      else if (key === 'radioType' || /^802\.11\w*$/.test(value)) w.radioType = value
      else if (key === 'signalPct' || /^\d{1,3}\s?%$/.test(value)) w.signalPct = parseInt(value, 10)
      else if (key === 'channel' && Number.isInteger(num)) w.channel = num
      if (/\(mbps\)/.test(label) && Number.isFinite(num)) rates.push(num)
      if (key === 'receiveMbps' && Number.isFinite(num)) w.receiveMbps = num
      if (key === 'transmitMbps' && Number.isFinite(num)) w.transmitMbps = num
    }
    w.receiveMbps ??= rates[0] ?? null
    w.transmitMbps ??= rates[1] ?? null
    w.connected = w.ssid !== null && w.ssid !== ''
    out.push(w)
  }
  return out
}

export interface WindowsLink { kind: WindowsIfaceKind, linkMbps: number | null, source: string, wifi?: WlanInterface }

/** Kind and link speed of the adapter named `name` (os.networkInterfaces() uses the same names). */
export async function windowsLinkInfo (name: string, run: CommandRunner): Promise<WindowsLink> {
  const problems: string[] = []
  const [ps, psArgs] = powershell(ADAPTERS_SCRIPT)
  const adapters = await run(ps, psArgs)
  const psProblem = commandProblem('Get-NetAdapter', adapters)
  let adapter: WindowsAdapter | undefined
  if (psProblem === null) {
    try {
      adapter = parseNetAdapter(adapters.stdout).find((a) => a.name === name)
      if (adapter === undefined) problems.push(`Get-NetAdapter does not list "${name}"`)
    } catch (err) { problems.push(`Get-NetAdapter printed no JSON (${(err as Error).message})`) }
  } else problems.push(psProblem)
  if (adapter !== undefined && adapter.kind !== 'wifi' && adapter.kind !== 'unknown') {
    return { kind: adapter.kind, linkMbps: adapter.linkMbps, source: 'Get-NetAdapter' }
  }
  // Wi-Fi (or undetermined): netsh names the Wi-Fi interfaces and their rates.
  const [cmd, cmdArgs] = utf8Console('netsh wlan show interfaces')
  const wlan = await run(cmd, cmdArgs)
  const wlanProblem = commandProblem('netsh wlan show interfaces', wlan)
  const w = wlanProblem === null ? parseNetshWlan(wlan.stdout).find((i) => i.name === name) : undefined
  if (wlanProblem !== null) problems.push(wlanProblem)
  if (w !== undefined) {
    const rates = [w.receiveMbps, w.transmitMbps].filter((v): v is number => v !== null && v > 0)
    const linkMbps = adapter?.linkMbps ?? (rates.length === 0 ? null : Math.min(...rates))
    return { kind: 'wifi', linkMbps, source: adapter === undefined ? 'netsh wlan show interfaces' : 'Get-NetAdapter, netsh wlan show interfaces', wifi: w }
  }
  if (adapter !== undefined) return { kind: adapter.kind, linkMbps: adapter.linkMbps, source: adapter.kind === 'wifi' ? 'Get-NetAdapter' : `Get-NetAdapter (medium not recognised: ${adapter.description})`.slice(0, 200) }
  return { kind: 'unknown', linkMbps: null, source: problems.join('; ').slice(0, 300) }
}
