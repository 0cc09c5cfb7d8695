import { afterEach, describe, expect, it, vi } from 'vitest'
import { evaluateNetwork, type Observation } from '../../collector/ipv6/network-state.js'
import { parsePeriod as parseAnyPeriod, periodBounds, periodId, previousPeriod } from '../../shared/period.js'
import { readinessLevel, worstColour } from '../../collector/ipv6/readiness.js'
import { startProbeScheduler, type CycleOutcome } from '../../collector/ipv6/prober.js'
import { safeText } from '../../collector/ipv6/table.js'
import { evidenceOf, readEvidence } from '../../shared/ipv6-evidence.js'

const H = 3_600_000
const obs = (at: number, o: Partial<Omit<Observation, 'at'>>): Observation => ({ at, capable: null, connected: null, preferred: null, ...o })

describe('agency network state (RIPE Atlas three-state logic)', () => {
  it('works with one success in the window, doesnt_work when all failed, unknown with no IPv6 results', () => {
    expect(evaluateNetwork([obs(0, { connected: false }), obs(H, { connected: true })], 4 * H).works).toBe('works')
    expect(evaluateNetwork([obs(0, { connected: false }), obs(H, { connected: false })], 4 * H).works).toBe('doesnt_work')
    expect(evaluateNetwork([], 4 * H)).toMatchObject({ works: 'unknown', capable: null, preferred: null, results: 0 })
    expect(evaluateNetwork([obs(0, {})], 4 * H).works).toBe('unknown')
  })
  it('looks back only `window` from the last observation', () => {
    const s = evaluateNetwork([obs(0, { connected: true }), obs(5 * H, { connected: false })], 4 * H)
    expect(s).toMatchObject({ works: 'doesnt_work', results: 1, windowTo: new Date(5 * H).toISOString(), windowFrom: new Date(H).toISOString() })
  })
  it('capable is a global address seen, and says nothing about connectivity', () => {
    expect(evaluateNetwork([obs(0, { capable: true, connected: false })], H)).toMatchObject({ capable: true, works: 'doesnt_work' })
  })
})

describe('what one result says', () => {
  const block = { state: 'capable', globalAddress: true, connect6: null, mainTestFamily: 4, checks: [] as Array<{ name: string, ok: boolean | null }> }
  it('reads the agent sub-tests and never counts an untried connection as a failure', () => {
    expect(readEvidence({ kind: 'ipv6', ipv6: block, serverFamily: null, forcedFamily: null })).toEqual({ capable: true, connected: null, preferred: false })
    expect(readEvidence({ kind: 'ipv6', ipv6: { ...block, checks: [{ name: 'reach_name', ok: true }] }, serverFamily: null, forcedFamily: null }).connected).toBe(true)
    expect(readEvidence({ kind: 'ipv6', ipv6: { ...block, checks: [{ name: 'connect6', ok: false }, { name: 'preferred', ok: true }] }, serverFamily: null, forcedFamily: null }))
      .toEqual({ capable: true, connected: false, preferred: true })
    expect(readEvidence({ kind: 'ipv6', ipv6: { state: 'none', globalAddress: false, connect6: null }, serverFamily: null, forcedFamily: null }))
      .toEqual({ capable: false, connected: false, preferred: null })
  })
  it('a speed test over IPv6 works; only one the OS routed (not forced) shows a preference', () => {
    expect(readEvidence({ kind: 'speed', ipv6: null, serverFamily: 6, forcedFamily: null })).toEqual({ capable: null, connected: true, preferred: true })
    expect(readEvidence({ kind: 'speed', ipv6: null, serverFamily: 6, forcedFamily: 6 })).toEqual({ capable: null, connected: true, preferred: null })
    expect(readEvidence({ kind: 'speed', ipv6: null, serverFamily: 4, forcedFamily: null })).toEqual({ capable: null, connected: null, preferred: null })
  })
  it('skips speed results without IPv6 content without parsing them', () => {
    expect(evidenceOf({ agentId: 'a', resultId: 'r', agencyId: 'g', kind: 'speed', measuredAtCorr: 0, family: 4, raw: 'not json at all' })).toBeNull()
    expect(evidenceOf({ agentId: 'a', resultId: 'r', agencyId: 'g', kind: 'latency', measuredAtCorr: 0, family: null, raw: '{}' })).toBeNull()
  })
})

// The IPv6 report's periods, as the one report parser reads them for it (ISO weeks allowed).
const parsePeriod = (text: string | undefined, now: number) => parseAnyPeriod(text, undefined, 'month', now, 'weeks')
const ICT = 7 * 3_600_000

describe('periods', () => {
  // Vietnam time won over UTC: the IPv6 report used UTC months, so its "2026-01" began seven
  // hours after every other report's. Now every report's months and weeks start at 00:00 ICT.
  it('months and ISO weeks in Vietnam time, with the previous one', () => {
    expect(periodBounds(parsePeriod('2026-01', 0))).toEqual({ fromMs: Date.UTC(2026, 0, 1) - ICT, toMs: Date.UTC(2026, 1, 1) - ICT })
    expect(periodId(previousPeriod(parsePeriod('2026-01', 0)))).toBe('2025-12')
    // ISO week 1 of 2026 starts Monday 29 December 2025; 2026 has 53 weeks
    expect(periodBounds(parsePeriod('2026-W01', 0))?.fromMs).toBe(Date.UTC(2025, 11, 29) - ICT)
    expect(periodId(previousPeriod(parsePeriod('2026-W01', 0)))).toBe('2025-W52')
    expect(periodId(previousPeriod(parsePeriod('2027-W01', 0)))).toBe('2026-W53')
    expect(periodId(parsePeriod(undefined, Date.UTC(2026, 10, 23)))).toBe('2026-11')
    expect(periodId(parsePeriod('week', Date.UTC(2026, 10, 23)))).toBe('2026-W48')
    // 30 November 18:00 UTC is already 1 December in Vietnam, and Sunday 22:00 UTC already Monday
    expect(periodId(parsePeriod(undefined, Date.UTC(2026, 10, 30, 18)))).toBe('2026-12')
    expect(periodId(parsePeriod('week', Date.UTC(2026, 10, 29, 22)))).toBe('2026-W49')
  })
  it('rejects what is not a period, naming the field', () => {
    for (const bad of ['2026-13', '2026-W54', '2025-W53', '11/2026', '']) {
      expect(() => parsePeriod(bad, 0)).toThrow(expect.objectContaining({ code: 'TOCDO_ERR_VALIDATION', details: { field: 'period' } }))
    }
  })
})

describe('levels', () => {
  const works = { capable: true, works: 'works' as const, preferred: true, results: 1, windowFrom: null, windowTo: null }
  const green = { web_aaaa: 'green', https_v6: 'green', ns_v6: 'green', mx_v6: 'green', dnssec: 'green' } as const
  it('ready needs NS and HTTPS over IPv6 and a working network; ready_plus adds mail and DNSSEC', () => {
    expect(readinessLevel(works, green)).toBe('ready_plus')
    expect(readinessLevel(works, { ...green, mx_v6: 'gray' })).toBe('ready_plus')
    expect(readinessLevel(works, { ...green, dnssec: 'yellow' })).toBe('ready')
    expect(readinessLevel({ ...works, works: 'doesnt_work' }, green)).toBe('partial')
    expect(readinessLevel(works, { ...green, ns_v6: 'yellow' })).toBe('partial')
  })
  it('DNSSEC alone is not IPv6; no data at all is unknown', () => {
    const nothing = { capable: null, works: 'unknown' as const, preferred: null, results: 0, windowFrom: null, windowTo: null }
    expect(readinessLevel({ ...nothing, capable: false, works: 'doesnt_work' }, { web_aaaa: 'red', https_v6: 'red', ns_v6: 'red', mx_v6: 'red', dnssec: 'green' })).toBe('none')
    expect(readinessLevel(nothing, { web_aaaa: null, https_v6: null, ns_v6: null, mx_v6: null, dnssec: null })).toBe('unknown')
  })
  it('an agency\'s colour over its hosts is the worst; gray only when all are gray', () => {
    expect(worstColour(['green', 'yellow'])).toBe('yellow')
    expect(worstColour(['yellow', 'red', 'green'])).toBe('red')
    expect(worstColour(['gray', 'green'])).toBe('green')
    expect(worstColour(['gray'])).toBe('gray')
    expect(worstColour([])).toBeNull()
  })
})

describe('probe scheduler', () => {
  afterEach(() => { vi.useRealTimers() })
  const outcome: CycleOutcome = { probed: 0, failed: [] }

  it('first run after the jittered first delay, then every interval ± jitter; stop ends it', async () => {
    vi.useFakeTimers()
    const runs: number[] = []
    const s = startProbeScheduler(async () => { runs.push(Date.now()); return outcome }, { intervalMs: 6 * H, firstDelayMs: 60_000, jitter: 0.1, random: () => 1 })
    const t0 = Date.now()
    await vi.advanceTimersByTimeAsync(66_000 - 1)
    expect(runs).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(runs).toEqual([t0 + 66_000])
    await vi.advanceTimersByTimeAsync(6.6 * H)
    expect(runs).toEqual([t0 + 66_000, t0 + 66_000 + 6.6 * H])
    s.stop()
    await vi.advanceTimersByTimeAsync(24 * H)
    expect(runs).toHaveLength(2)
  })

  it('never runs two cycles at once: runNow during a cycle joins it', async () => {
    let active = 0
    let maxActive = 0
    let release: () => void = () => {}
    const s = startProbeScheduler(async () => {
      active++; maxActive = Math.max(maxActive, active)
      await new Promise<void>((resolve) => { release = resolve })
      active--
      return outcome
    }, { intervalMs: H, firstDelayMs: H })
    const a = s.runNow()
    const b = s.runNow()
    release()
    await Promise.all([a, b])
    expect(maxActive).toBe(1)
    s.stop()
  })
})

describe('spreadsheet cells', () => {
  it('text Excel would run as a formula gets an apostrophe; other text is untouched', () => {
    expect(safeText('=HYPERLINK("http://x")')).toBe('\'=HYPERLINK("http://x")')
    expect(safeText('+84 260')).toBe('\'+84 260')
    expect(safeText('@sum')).toBe('\'@sum')
    expect(safeText('Sở KH&CN Kon Tum')).toBe('Sở KH&CN Kon Tum')
    expect(safeText(null)).toBeNull()
  })
})
