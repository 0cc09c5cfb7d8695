import { describe, expect, it } from 'vitest'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesBetween, parseProcNetDev, readInterfaceCounters } from '../../agent/platform/net-counters.js'

const SAMPLE = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 323346714333 6954751    0    0    0     0          0         0 323346714333 6954751    0    0    0     0       0          0
  eth0: 326553817   11302    0    0    0     0          0         0  1129289    7736    0    0    0     0       0          0
eth0.100:12345 10 0 0 0 0 0 0 678 9 0 0 0 0 0 0
`

describe('interface byte counters', () => {
  it('parses /proc/net/dev, including names with dots and no space after the colon', () => {
    expect(parseProcNetDev(SAMPLE)).toEqual({
      lo: { rxBytes: 323346714333, txBytes: 323346714333, rxPackets: 6954751, txPackets: 6954751 },
      eth0: { rxBytes: 326553817, txBytes: 1129289, rxPackets: 11302, txPackets: 7736 },
      'eth0.100': { rxBytes: 12345, txBytes: 678, rxPackets: 10, txPackets: 9 }
    })
  })

  it('reads the live file on Linux and says why on other platforms', async () => {
    const live = await readInterfaceCounters()
    expect(live.source).toBe('proc-net-dev')
    expect(Object.keys(live.ifaces)).toContain('lo')
    expect(live.tcpRetransSegs).toBeGreaterThanOrEqual(0)
    const mac = await readInterfaceCounters({ platform: 'darwin' })
    expect(mac).toMatchObject({ source: 'unavailable', ifaces: {} })
    expect(mac.reason).toMatch(/darwin/)
    const missing = await readInterfaceCounters({ file: '/nonexistent/net/dev' })
    expect(missing.source).toBe('unavailable')
    expect(missing.reason).toMatch(/cannot read/)
  })

  it('reads a given file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tocdo-netdev-'))
    writeFileSync(join(dir, 'dev'), SAMPLE)
    expect((await readInterfaceCounters({ file: join(dir, 'dev') })).ifaces.eth0?.txBytes).toBe(1129289)
  })

  it('differences counters, skipping loopback by default, and refuses counters that went back', () => {
    const a = { source: 'proc-net-dev' as const, ifaces: { lo: { rxBytes: 0, txBytes: 0 }, eth0: { rxBytes: 100, txBytes: 50 } } }
    const b = { source: 'proc-net-dev' as const, ifaces: { lo: { rxBytes: 999, txBytes: 999 }, eth0: { rxBytes: 1100, txBytes: 80 } } }
    expect(bytesBetween(a, b)).toEqual({ rxBytes: 1000, txBytes: 30 })
    expect(bytesBetween(a, b, ['lo'])).toEqual({ rxBytes: 999, txBytes: 999 })
    expect(bytesBetween(b, a, ['eth0'])).toBeNull()
    expect(bytesBetween({ source: 'unavailable', ifaces: {} }, b)).toBeNull()
  })
})
