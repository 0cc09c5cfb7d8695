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

  it('takes TOCDO_DATABASE_URL for PostgreSQL, and names the problem of a bad one without its password', () => {
    expect(loadCollectorConfig({}).databaseUrl).toBe('')
    expect(loadCollectorConfig({ env: { TOCDO_DATABASE_URL: 'postgres://tocdo:pw@db.example:5432/tocdo' } }).databaseUrl).toBe('postgres://tocdo:pw@db.example:5432/tocdo')
    expect(loadCollectorConfig({ env: { TOCDO_DATABASE_URL: 'postgresql://tocdo@/tocdo?host=/run/postgresql' } }).databaseUrl).toBe('postgresql://tocdo@/tocdo?host=/run/postgresql')
    for (const [url, problem] of [
      ['mysql://tocdo:hunter2-secret@db/tocdo', /databaseUrl \(from environment variable TOCDO_DATABASE_URL\): the scheme is "mysql:"; give postgres:\/\/user:password@host:5432\/database/],
      ['postgres://tocdo:hunter2-secret@db:5432', /databaseUrl \(from environment variable TOCDO_DATABASE_URL\): postgres:\/\/tocdo:\*\*\*@db:5432 names no database/],
      ['db.example hunter2-secret', /databaseUrl \(from environment variable TOCDO_DATABASE_URL\): not a URL/]
    ] as const) {
      try {
        loadCollectorConfig({ env: { TOCDO_DATABASE_URL: url } })
        expect.unreachable()
      } catch (err) {
        expect((err as { code: string }).code).toBe('TOCDO_ERR_CONFIG_INVALID')
        expect((err as Error).message).toMatch(problem)
        expect((err as Error).message).not.toContain('hunter2-secret')
      }
    }
  })
})
