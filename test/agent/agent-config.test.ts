import { describe, expect, it } from 'vitest'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadAgentConfig } from '../../agent/config.js'

describe('loadAgentConfig()', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocdo-agent-config-'))

  it('reads file < environment < flags', () => {
    const file = join(dir, 'agent.json')
    writeFileSync(file, JSON.stringify({ collector: 'http://collector.example:8080', pings: 30, servers: ['http://a.example'] }))
    const c = loadAgentConfig({ file, env: { TOCDO_AGENT_PINGS: '40', TOCDO_AGENT_SERVERS: 'http://b.example, http://c.example' }, flags: { pings: 50 } })
    expect(c.collector).toBe('http://collector.example:8080')
    expect(c.pings).toBe(50)
    expect(c.servers).toEqual(['http://b.example', 'http://c.example'])
  })

  it('names the setting, its source and the problem', () => {
    expect(() => loadAgentConfig({ env: { TOCDO_AGENT_PLAN_DOWN_MBPS: '-5' } }))
      .toThrow(/planDownMbps \(from environment variable TOCDO_AGENT_PLAN_DOWN_MBPS\)/)
    expect(() => loadAgentConfig({ flags: { collector: 'collector.example' } }))
      .toThrow(/collector \(from flag --collector\)/)
  })

  it('refuses unknown settings in a file instead of ignoring a typo', () => {
    const file = join(dir, 'typo.json')
    writeFileSync(file, JSON.stringify({ colector: 'http://x.example' }))
    expect(() => loadAgentConfig({ file })).toThrow(/Unknown agent setting "colector" \(from config file/)
  })

  it('explains an unreadable file', () => {
    expect(() => loadAgentConfig({ file: join(dir, 'missing.json') })).toThrow(/Cannot read agent config file/)
  })
})
