import { describe, expect, it } from 'vitest'
import { parseSsTcpInfo } from '../../collector/speedtest/tcp-info.js'
import { peerKey } from '../../collector/speedtest/test-counters.js'

const TAB = '\t'
const SS = `0      4194304      198.18.0.1:8080 198.18.0.2:41234
${TAB} cubic wscale:7,7 rto:212 rtt:11.2/0.4 mss:1448 cwnd:87 bytes_sent:98562464 bytes_retrans:2896 bytes_acked:98267072 bytes_received:930 busy:7812ms rwnd_limited:12ms(0.2%) sndbuf_limited:400ms(5.1%) minrtt:10.069 snd_wnd:3145728
0      0      [::ffff:198.18.0.1]:8080 [::ffff:198.18.0.2]:41240
${TAB} cubic bytes_sent:10 bytes_acked:11 app_limited minrtt:0.5
0      0      [2001:2::1]:8080 [2001:2::2]:50000
`

describe('TCP_INFO from ss (collector/speedtest/tcp-info.ts)', () => {
  it('reads the chronographs and byte counts of each socket, keyed by the peer as Node names it', () => {
    const s = parseSsTcpInfo(SS)
    expect(s).toHaveLength(3)
    expect(s[0]).toEqual({ peer: '198.18.0.2:41234', busyMs: 7812, rwndLimitedMs: 12, sndbufLimitedMs: 400, bytesSent: 98562464, bytesAcked: 98267072, bytesRetrans: 2896, bytesReceived: 930, minRttMs: 10.069 })
    expect(s[1]).toMatchObject({ peer: '198.18.0.2:41240', busyMs: 0, bytesAcked: 11, minRttMs: 0.5 })
    expect(s[2]).toMatchObject({ peer: '[2001:2::2]:50000', busyMs: 0, minRttMs: null })
    expect(peerKey('::ffff:198.18.0.2', 41240)).toBe('198.18.0.2:41240')
    expect(peerKey('2001:2::2', 50000)).toBe('[2001:2::2]:50000')
  })
})
