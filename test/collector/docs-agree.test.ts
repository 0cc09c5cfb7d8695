import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { correctClock } from '../../collector/ingest/clock.js'
import { parsePeriod, periodYear } from '../../shared/period.js'
import { DEFAULT_REPORT_RULES } from '../../collector/reports/rules.js'

const doc = (name: string): string => readFileSync(`docs/${name}`, 'utf8')

describe('the documents agree with each other and with the code', () => {
  it('clock offset: collector clock minus agent clock, added to the agent\'s time', () => {
    // An agent 10 s behind: collector 12:00:10 when the agent says 12:00:00 -> offset +10,000 ms.
    const agentTime = Date.parse('2026-10-05T05:00:00Z')
    const { correctedMs } = correctClock({ measuredAtMs: agentTime, offsetMs: 10_000, sinceSyncS: 60, receivedAtMs: agentTime + 20_000 })
    expect(correctedMs).toBe(agentTime + 10_000)
    expect(doc('result-record.md')).toContain('Collector clock minus agent clock')
    expect(doc('fleet.md')).toMatch(/`clock\.offsetMs` = collector −\s+agent/)
    for (const d of ['result-record.md', 'fleet.md', 'fleet-protocol.md', 'agent.md']) expect(doc(d), d).not.toMatch(/[Aa]gent clock minus collector/)
  })

  it('80/80: the per-agent minimum counts office-hours representative samples, not tests', () => {
    expect(DEFAULT_REPORT_RULES.minBusyHourSamplesPerAgent).toBe(20)
    expect(doc('fleet-protocol.md')).toContain('≥ **20** office-hours **representative samples**')
    expect(doc('reports.md')).toContain('office samples')
    for (const d of ['fleet-protocol.md', 'reports.md', 'reports-api.md']) expect(doc(d), d).not.toMatch(/office-hours tests|minBusyHourTests/)
  })

  it('a period over two years is judged against the targets of its last month\'s year', () => {
    // Rolling 12 months from 2025-11 to 2026-10: 2026.
    expect(periodYear(parsePeriod('rolling12', '2026-10', 'rolling12'))).toBe(2026)
    expect(periodYear(parsePeriod('2025-12', undefined, 'rolling12'))).toBe(2025)
    expect(doc('reports.md')).toContain('calendar year of the period\'s last month')
    expect(doc('reports-api.md')).toContain('the calendar year of the period\'s **last** month')
  })
})
