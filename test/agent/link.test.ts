import { describe, expect, it } from 'vitest'
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { networkInterfaces, tmpdir } from 'node:os'
import { join } from 'node:path'
import { classifyIpv6, hasIpv6DefaultRoute, interfaceForAddress, interfaceToward, linkInfo } from '../../agent/platform/link.js'
import { classifyIpv6State } from '../../agent/measure/ipv6.js'
import { busyBackoffMs } from '../../agent/measure/select.js'

describe('IPv6 address classes (methodology.md §10 addr)', () => {
  it.each([
    ['2001:db8::1', 'global'], ['2402:800:1::5', 'global'], ['fe80::1', 'link_local'], ['fd00::2', 'ula'],
    ['fc12::1', 'ula'], ['2001:0:4136:e378::1', 'teredo'], ['2002:c000:204::1', '6to4'], ['::1', 'loopback'], ['ff02::1', 'other']
  ])('%s is %s', (a, cls) => { expect(classifyIpv6(a)).toBe(cls) })
})

describe('IPv6 state', () => {
  it('works / broken / capable / none', () => {
    expect(classifyIpv6State({ globalAddress: false, connect6: true })).toBe('works')
    expect(classifyIpv6State({ globalAddress: true, connect6: false })).toBe('broken')
    expect(classifyIpv6State({ globalAddress: true, connect6: null })).toBe('capable')
    expect(classifyIpv6State({ globalAddress: false, connect6: false })).toBe('none')
  })
})

describe('link facts', () => {
  it('maps a local address to its interface, IPv4-mapped included', () => {
    const ifaces = { eth0: [{ address: '10.0.0.5', family: 'IPv4', internal: false, netmask: '', mac: '', cidr: null }] } as unknown as NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]>
    expect(interfaceForAddress('::ffff:10.0.0.5', ifaces)).toBe('eth0')
    expect(interfaceForAddress('10.0.0.6', ifaces)).toBeNull()
    expect(interfaceForAddress('127.0.0.1')).toBe('lo')
  })
  it('reads kind and speed from sysfs; virtual devices have no speed', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tocdo-sys-'))
    mkdirSync(join(root, 'enp1s0'))
    writeFileSync(join(root, 'enp1s0', 'type'), '1\n')
    writeFileSync(join(root, 'enp1s0', 'speed'), '1000\n')
    mkdirSync(join(root, 'wlan0', 'wireless'), { recursive: true })
    writeFileSync(join(root, 'wlan0', 'type'), '1\n')
    writeFileSync(join(root, 'wlan0', 'speed'), '-1\n')
    expect(await linkInfo('enp1s0', { sysRoot: root })).toMatchObject({ kind: 'ethernet', linkMbps: 1000 })
    expect(await linkInfo('wlan0', { sysRoot: root })).toMatchObject({ kind: 'wifi', linkMbps: null })
    expect(await linkInfo('lo')).toMatchObject({ kind: 'loopback', linkMbps: null })
    expect(await linkInfo('eth0', { platform: 'darwin' })).toMatchObject({ linkMbps: null })
  })
  it('finds a default IPv6 route and ignores reject routes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tocdo-route-'))
    const reject = '00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n'
    const real = '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000002 00000000 00000003     eth0\n'
    writeFileSync(join(dir, 'r1'), reject)
    writeFileSync(join(dir, 'r2'), reject + real)
    expect(await hasIpv6DefaultRoute({ file: join(dir, 'r1') })).toBe(false)
    expect(await hasIpv6DefaultRoute({ file: join(dir, 'r2') })).toBe(true)
    expect(await hasIpv6DefaultRoute({ file: join(dir, 'none') })).toBeNull()
    expect(await hasIpv6DefaultRoute({ platform: 'win32' })).toBeNull()
  })
})

describe('busy back-off (methodology.md §3)', () => {
  it('doubles from 60 s to 960 s with ±5 % jitter and honours a longer Retry-After', () => {
    expect([0, 1, 2, 3, 4, 9].map((a) => busyBackoffMs(a, null, () => 0))).toEqual([60_000, 120_000, 240_000, 480_000, 960_000, 960_000])
    expect(busyBackoffMs(0, null, () => 1)).toBe(63_000)
    expect(busyBackoffMs(0, null, () => -1)).toBe(57_000)
    expect(busyBackoffMs(0, 300, () => 0)).toBe(300_000)
  })
})

describe('the interface toward a test server (the quiet-line gate counts only it)', () => {
  it('is the loopback interface for a server on this machine, over IPv4 and IPv6, with no packet sent', async () => {
    const lo = Object.entries(networkInterfaces()).find(([, addrs]) => addrs?.some((a) => a.address === '127.0.0.1'))?.[0]
    expect(lo).toBeDefined()
    expect(await interfaceToward('http://127.0.0.1:9/')).toBe(lo)
    expect(await interfaceToward('https://localhost/')).toBe(lo)
    if (networkInterfaces()[lo as string]?.some((a) => a.address === '::1') === true) expect(await interfaceToward('http://[::1]:9/')).toBe(lo)
  })

  it('is null when the server cannot be named, so the gate counts every interface', async () => {
    expect(await interfaceToward('not a url')).toBeNull()
  })
})
