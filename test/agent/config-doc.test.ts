import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { AgentConfig, DEFAULT_AGENT_CONFIG } from '../../agent/config.js'

const doc = readFileSync(new URL('../../docs/agent-config.md', import.meta.url), 'utf8')

/** Rows of the settings table: setting → its cells. */
function rows (): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const line of doc.split('\n')) {
    const m = /^\| `(\w+)` \|(.*)\|$/.exec(line)
    if (m !== null) out.set(m[1]!, m[2]!.split('|').map((c) => c.trim()))
  }
  return out
}

describe('docs/agent-config.md', () => {
  it('lists every agent setting once, and nothing else', () => {
    expect([...rows().keys()].sort()).toEqual(Object.keys(AgentConfig.properties).sort())
  })

  it('gives each setting the default agent/config.ts uses', () => {
    for (const [key, cells] of rows()) {
      const value = DEFAULT_AGENT_CONFIG[key as keyof typeof DEFAULT_AGENT_CONFIG]
      const written = typeof value === 'string' ? value : JSON.stringify(value).replace(/,/g, ', ')
      expect(cells[1], key).toBe(`\`${written}\``)
    }
  })

  it('names the environment variable agent/config.ts reads for each setting', () => {
    const source = readFileSync(new URL('../../agent/config.ts', import.meta.url), 'utf8')
    for (const [key, cells] of rows()) {
      const env = new RegExp(`(TOCDO_AGENT_\\w+): '${key}'`).exec(source)?.[1]
      expect(cells[3], key).toBe(`\`${env}\``)
    }
  })
})
