import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import type { CommandRunner } from '../../agent/platform/command.js'
import { bytesBetween, readInterfaceCounters } from '../../agent/platform/net-counters.js'
import { linkInfo } from '../../agent/platform/link.js'
import { parseAdapterStatistics, parseNetAdapter, parseNetshWlan, parseNetstatE } from '../../agent/platform/windows.js'

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/windows/${name}`, import.meta.url), 'utf8')

/**
 * A stand-in for Windows: each command line that contains a key gets the recorded output
 * (null: the command fails as a missing program or a refused script would).
 */
function windows (outputs: Record<string, string | null>): { run: CommandRunner, calls: string[] } {
  const calls: string[] = []
  const run: CommandRunner = async (file, args) => {
    const line = [file, ...args].join(' ')
    calls.push(line)
    const key = Object.keys(outputs).find((k) => line.includes(k))
    const out = key === undefined ? null : outputs[key] ?? null
    return out === null ? { code: null, stdout: '', stderr: '', error: `spawn ${file} ENOENT` } : { code: 0, stdout: out, stderr: '' }
  }
  return { run, calls }
}

describe('Windows interface byte counters', () => {
  it('parseAdapterStatistics() reads ConvertTo-Json output, one adapter or many', () => {
    expect(parseAdapterStatistics(fixture('get-netadapterstatistics.json'))).toEqual({
      Ethernet: { rxBytes: 5820938746, txBytes: 447316264 },
      'Wi-Fi': { rxBytes: 1203994, txBytes: 300211 },
      'Kết nối mạng 2': { rxBytes: 0, txBytes: 0 }
    })
    expect(parseAdapterStatistics(fixture('get-netadapterstatistics-single.json'))).toEqual({ Ethernet: { rxBytes: 91234, txBytes: 5678 } })
    expect(parseAdapterStatistics('')).toEqual({})
  })

  it('parseNetstatE() reads the byte row of English and Vietnamese output', () => {
    expect(parseNetstatE(fixture('netstat-e.en.txt'))).toEqual({ rxBytes: 3177385963, txBytes: 260741227 })
    expect(parseNetstatE(fixture('netstat-e.vi.txt'))).toEqual({ rxBytes: 3177385963, txBytes: 260741227 })
    expect(parseNetstatE('The system cannot find the path specified.\r\n')).toBeNull()
  })

  it('readInterfaceCounters() on Windows: PowerShell first, netstat -e next, else the reason', async () => {
    const ps = windows({ 'Get-NetAdapterStatistics': fixture('get-netadapterstatistics.json') })
    const a = await readInterfaceCounters({ platform: 'win32', run: ps.run })
    expect(a.source).toBe('get-netadapterstatistics')
    expect(ps.calls[0]).toMatch(/^powershell\.exe -NoProfile .*OutputEncoding=\[Text\.Encoding\]::UTF8; Get-NetAdapterStatistics .*ConvertTo-Json/)

    const ns = windows({ 'netstat.exe -e': fixture('netstat-e.vi.txt') })
    const b = await readInterfaceCounters({ platform: 'win32', run: ns.run })
    expect(b).toEqual({ source: 'netstat-e', ifaces: { '*': { rxBytes: 3177385963, txBytes: 260741227 } } })
    // netstat's single total stands for whichever interface the test used.
    const later = { source: 'netstat-e' as const, ifaces: { '*': { rxBytes: 3177485963, txBytes: 260751227 } } }
    expect(bytesBetween(b, later, ['Ethernet'])).toEqual({ rxBytes: 100000, txBytes: 10000 })

    const none = await readInterfaceCounters({ platform: 'win32', run: windows({}).run })
    expect(none.source).toBe('unavailable')
    expect(none.reason).toMatch(/Get-NetAdapterStatistics failed: spawn powershell\.exe ENOENT; netstat -e failed/)
  })
})

describe('Windows link kind, speed and Wi-Fi', () => {
  it('parseNetAdapter() maps NdisPhysicalMedium to the kind and bits/s to Mbit/s', () => {
    const list = parseNetAdapter(fixture('get-netadapter.json'))
    expect(list.map((a) => [a.name, a.kind, a.linkMbps, a.up])).toEqual([
      ['Ethernet', 'ethernet', 1000, true],
      ['Wi-Fi', 'wifi', 702, true],
      ['Ethernet 2', 'ethernet', null, false],
      ['vEthernet (Default Switch)', 'unknown', 10000, true]
    ])
  })

  it('parseNetshWlan() reads English and Vietnamese output alike', () => {
    const en = parseNetshWlan(fixture('netsh-wlan-interfaces.en.txt'))
    const vi = parseNetshWlan(fixture('netsh-wlan-interfaces.vi.txt'))
    const want = { name: 'Wi-Fi', connected: true, ssid: 'UBND-XA-DAKHA', radioType: '802.11ac', signalPct: 92, receiveMbps: 866.7, transmitMbps: 702, channel: 44 }
    expect(en).toHaveLength(1)
    expect(en[0]).toMatchObject(want)
    expect(vi).toHaveLength(1)
    expect(vi[0]).toMatchObject(want)
    expect(parseNetshWlan(fixture('netsh-wlan-disconnected.en.txt'))[0]).toMatchObject({ name: 'Wi-Fi', connected: false, ssid: null, signalPct: null })
  })

  it('linkInfo() on Windows: Ethernet from Get-NetAdapter, Wi-Fi with netsh, reasons when nothing answers', async () => {
    const full = windows({ 'Get-NetAdapter ': fixture('get-netadapter.json'), 'netsh wlan': fixture('netsh-wlan-interfaces.vi.txt') })
    expect(await linkInfo('Ethernet', { platform: 'win32', run: full.run })).toEqual({ name: 'Ethernet', kind: 'ethernet', linkMbps: 1000, source: 'Get-NetAdapter' })
    const wifi = await linkInfo('Wi-Fi', { platform: 'win32', run: full.run })
    expect(wifi).toMatchObject({ kind: 'wifi', linkMbps: 702, source: 'Get-NetAdapter, netsh wlan show interfaces', wifi: { signalPct: 92, radioType: '802.11ac' } })
    expect(full.calls.some((c) => /^cmd\.exe .*chcp 65001 .*netsh wlan show interfaces/.test(c))).toBe(true)

    // No PowerShell (blocked by policy): netsh alone still tells Wi-Fi and its rate.
    const netshOnly = windows({ 'netsh wlan': fixture('netsh-wlan-interfaces.en.txt') })
    expect(await linkInfo('Wi-Fi', { platform: 'win32', run: netshOnly.run })).toMatchObject({ kind: 'wifi', linkMbps: 702, source: 'netsh wlan show interfaces' })
    const unknown = await linkInfo('Ethernet', { platform: 'win32', run: netshOnly.run })
    expect(unknown).toMatchObject({ kind: 'unknown', linkMbps: null })
    expect(unknown.source).toMatch(/Get-NetAdapter failed: spawn powershell\.exe ENOENT/)
  })
})
