import { describe, expect, it } from 'vitest'
import { addMonths, monthStartMs, recentMonths, vnClock, vnDayStart, vnDaysLeftInMonth, vnHhmm, vnMonth } from '../../shared/vn-time.js'
import { DEFAULT_SCHEDULE } from '../../shared/schedule.js'
import { builtinConfig } from '../../agent/sync/remote-config.js'
import { defaultRemoteConfig } from '../../collector/fleet/remote-config.js'
import { timeBand } from '../../collector/aggregation/time-bands.js'
import { dashboardContext } from '../../collector/dashboard/context.js'
import { openDatabase } from '../../collector/storage/db.js'
import { SqliteRollupReader } from '../../collector/storage/sqlite/rollups.js'

describe('shared/vn-time', () => {
  it('puts 17:00 UTC on the last day of a month in the next Vietnam month', () => {
    const t = Date.parse('2026-10-31T17:00:00Z') // 2026-11-01 00:00 ICT
    expect(vnMonth(t)).toBe('2026-11')
    expect(vnMonth(t - 1)).toBe('2026-10')
    expect(monthStartMs('2026-11')).toBe(t)
    expect(vnHhmm(t)).toBe('00:00')
    expect(vnDayStart(t + 5 * 3_600_000)).toBe(t)
    expect(vnDaysLeftInMonth(t)).toBe(30)
    expect(vnClock(Date.parse('2026-11-02T08:00:00+07:00'))).toEqual({ minute: 480, weekday: 1 })
  })

  it('counts months across years, newest first', () => {
    expect(addMonths('2026-01', -1)).toBe('2025-12')
    expect(recentMonths(Date.parse('2026-01-01T00:30:00+07:00'), 3)).toEqual(['2026-01', '2025-12', '2025-11'])
  })
})

describe('the one default schedule', () => {
  // The agent's built-in schedule (6 tests, IPv6 hourly, office from 08:00) won over the
  // collector's old version 1 (4 tests, IPv6 every 360 min, office from 07:30): it is what
  // docs/methodology.md §13 and docs/fleet-protocol.md §13 state, and an office slot from 07:30
  // could fall outside the reports' office band, which starts at 08:00.
  it('is what the agent falls back to and what the collector sends as version 1', () => {
    expect(builtinConfig().schedule).toEqual(DEFAULT_SCHEDULE)
    expect(defaultRemoteConfig('http://127.0.0.1:1').schedule).toEqual(DEFAULT_SCHEDULE)
    expect(DEFAULT_SCHEDULE).toMatchObject({ fullTestsPerDay: 6, latencyEveryMin: 15, ipv6EveryMin: 60 })
  })

  it('guarantees office slots only inside the reports\' office band', () => {
    for (const w of DEFAULT_SCHEDULE.officeHours) {
      expect(timeBand(Date.parse(`2026-11-02T${w.start}:00+07:00`), 0)).toBe('office')
      expect(timeBand(Date.parse(`2026-11-02T${w.start}:00+07:00`) - 60_000, 0)).not.toBe('office')
    }
    const e = DEFAULT_SCHEDULE.eveningWindow
    expect(timeBand(Date.parse(`2026-11-02T${e.start}:00+07:00`), 0)).toBe('evening')
  })
})

describe('dashboard context', () => {
  it('gives the page the reports\' zone and the last 12 Vietnam months, so the page computes no calendar', async () => {
    const db = openDatabase(':memory:')
    const ctx = await dashboardContext(new SqliteRollupReader(db), { departmentName: 'x', version: '1', sample: false }, Date.parse('2026-10-31T17:30:00Z'))
    expect(ctx.timeZone).toBe('Asia/Ho_Chi_Minh')
    expect(ctx.months[0]).toBe('2026-11')
    expect(ctx.months).toHaveLength(12)
    expect(ctx.months[11]).toBe('2025-12')
    // and the area registry's levels per geography version, so the page maps none itself
    expect(ctx.areaLevels).toEqual({
      '2025-03': { province: 'legacy_province', area: 'legacy_district', legacy: true },
      '2025-07': { province: 'province', area: 'commune', legacy: false }
    })
    db.close()
  })
})
