import { describe, expect, it } from 'vitest'
import { loadCollectorConfig } from '../../collector/config.js'

describe('loadCollectorConfig() hardening settings', () => {
  it('refuses an admin token under 128 bits, saying how to make one, without echoing it', () => {
    expect(() => loadCollectorConfig({ env: { TOCDO_ADMIN_TOKEN: 'short-but-secret-1' } }))
      .toThrow(/adminToken \(from environment variable TOCDO_ADMIN_TOKEN\).*128 bits.*openssl rand -base64 32.*got 18 characters/)
    try { loadCollectorConfig({ env: { TOCDO_ADMIN_TOKEN: 'short-but-secret-1' } }) } catch (err) { expect((err as Error).message).not.toContain('short-but-secret-1') }
    expect(loadCollectorConfig({ env: { TOCDO_ADMIN_TOKEN: 'a'.repeat(22) } }).adminToken).toHaveLength(22)
  })

  it('trustProxy takes addresses and CIDRs, and names a bad entry', () => {
    expect(loadCollectorConfig({ env: { TOCDO_TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,::1,fd00::/8' } }).trustProxy).toBe('127.0.0.1, 10.0.0.0/8,::1,fd00::/8')
    expect(() => loadCollectorConfig({ env: { TOCDO_TRUST_PROXY: '10.0.0.0/33' } })).toThrow(/trustProxy .*"10.0.0.0\/33" is not an IP address or CIDR/)
    expect(() => loadCollectorConfig({ env: { TOCDO_TRUST_PROXY: 'proxy.local' } })).toThrow(/"proxy.local" is not an IP address or CIDR/)
  })

  it('TLS needs both the certificate and the key', () => {
    expect(() => loadCollectorConfig({ env: { TOCDO_TLS_CERT_FILE: '/etc/ssl/x.pem' } })).toThrow(/give both files for HTTPS, or neither/)
  })
})
