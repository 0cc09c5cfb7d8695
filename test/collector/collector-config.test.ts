import { describe, expect, it } from 'vitest'
import { loadCollectorConfig } from '../../collector/config.js'

describe('loadCollectorConfig()', () => {
  it('applies defaults, then environment, then overrides, and freezes the result', () => {
    const c = loadCollectorConfig({ env: { TOCDO_PORT: '9000', TOCDO_SPEEDTEST_ONLY: 'yes' }, overrides: { port: 9100 } })
    expect(c.port).toBe(9100)
    expect(c.speedtestOnly).toBe(true)
    expect(c.dataDir).toBe('./data')
    expect(Object.isFrozen(c)).toBe(true)
  })

  it('derives the public URL agents are sent to from the port, unless it is set', () => {
    expect(loadCollectorConfig({ overrides: { port: 18400 } }).publicUrl).toBe('http://localhost:18400')
    expect(loadCollectorConfig({ env: { TOCDO_PUBLIC_URL: 'https://tocdo.example.gov.vn' }, overrides: { port: 18400 } }).publicUrl).toBe('https://tocdo.example.gov.vn')
  })

  it('names the setting and where it came from when a value is wrong', () => {
    expect(() => loadCollectorConfig({ env: { TOCDO_PORT: 'eighty' } }))
      .toThrow(/port \(from environment variable TOCDO_PORT\).*"eighty"|port \(from environment variable TOCDO_PORT\)/)
    try {
      loadCollectorConfig({ overrides: { maxConcurrentTests: 0 } })
      expect.unreachable()
    } catch (err) {
      expect((err as { code: string }).code).toBe('TOCDO_ERR_CONFIG_INVALID')
      expect((err as Error).message).toContain('maxConcurrentTests (from option --max-concurrent-tests)')
    }
  })
})
