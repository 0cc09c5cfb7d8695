import { describe, expect, it } from 'vitest'
import { byteBudgetForTier, earlyStopDue, EARLY_STOP, shouldAddStreams, MAX_STREAMS } from '../../agent/measure/ramp.js'
import { DOWNLOAD_WARMUP, type Sample } from '../../agent/measure/goodput.js'
import { initialStreams } from '../../agent/measure/speed-test.js'

function series (durationS: number, rateMbps: (tS: number) => number): Sample[] {
  const out: Sample[] = [{ tMs: 0, bytes: 0 }]
  let bytes = 0
  for (let t = 100; t <= durationS * 1000 + 1e-9; t += 100) {
    bytes += (rateMbps((t - 50) / 1000) * 1e6 / 8) * 0.1
    out.push({ tMs: t, bytes: Math.round(bytes) })
  }
  return out
}

describe('initial streams (methodology.md §5)', () => {
  it('eight unless the plan is 50 Mbps or less; an unknown plan counts as fast', () => {
    expect([null, undefined, 10, 50, 51, 100, 300, 1000].map((p) => initialStreams(p))).toEqual([8, 8, 2, 2, 8, 8, 8, 8])
  })
})

describe('dynamic stream ramp (methodology.md §5)', () => {
  const rising = series(4, (t) => 100 * (1 + t))
  it('adds streams while the 1-s rate still rises by ≥ 10 %', () => {
    expect(shouldAddStreams({ samples: rising, tMs: 3000, maxMs: 15_000, streams: 4 })).toBe(true)
  })
  it('does not add when the rate rose by less than 10 %', () => {
    const flat = series(4, (t) => t < 2 ? 100 : 108)
    expect(shouldAddStreams({ samples: flat, tMs: 3000, maxMs: 15_000, streams: 4 })).toBe(false)
  })
  it('decides on a trend: one noisy second up is not a rise', () => {
    // 1-s rates 60, 50, 66: the last second is 10 % above the first, but the middle fell.
    const noisy = series(4, (t) => t < 1 ? 60 : t < 2 ? 60 : t < 3 ? 50 : 66)
    expect(shouldAddStreams({ samples: noisy, tMs: 4000, maxMs: 15_000, streams: 4 })).toBe(false)
    // 50, 60, 66: rising each second and 32 % in all.
    const trend = series(4, (t) => t < 2 ? 50 : t < 3 ? 60 : 66)
    expect(shouldAddStreams({ samples: trend, tMs: 4000, maxMs: 15_000, streams: 4 })).toBe(true)
  })
  it('waits for the streams it added last to settle', () => {
    const long = series(6, (t) => 100 * (1 + t))
    expect(shouldAddStreams({ samples: long, tMs: 5000, maxMs: 15_000, streams: 6, lastAddMs: 4000 })).toBe(false)
    expect(shouldAddStreams({ samples: long, tMs: 6000, maxMs: 15_000, streams: 6, lastAddMs: 4000 })).toBe(true)
  })
  it('never adds in the second half of the test, at the maximum, or before three whole seconds', () => {
    const long = series(9, (t) => 100 * (1 + t))
    expect(shouldAddStreams({ samples: long, tMs: 8000, maxMs: 15_000, streams: 4 })).toBe(false)
    expect(shouldAddStreams({ samples: rising, tMs: 3000, maxMs: 15_000, streams: MAX_STREAMS })).toBe(false)
    expect(shouldAddStreams({ samples: rising, tMs: 2500, maxMs: 15_000, streams: 4 })).toBe(false)
  })
  it('is not fooled by noise: on flat series whose 1-s rates wander by ~6 % it adds rarely, on a real climb always', () => {
    // Seeded, so the same series every run: 100 ms rates with 20 % independent noise around a
    // flat 25 Mbit/s (1-s rates then vary by ~6 %), or climbing from 40 % to all of 100 Mbit/s.
    let seed = 7
    const rnd = (): number => { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
    const noisy = (rate: (tS: number) => number, noise: number): Sample[] => {
      const out: Sample[] = [{ tMs: 0, bytes: 0 }]
      let bytes = 0
      for (let t = 100; t <= 8000; t += 100) {
        let g = 0
        for (let i = 0; i < 6; i++) g += rnd()
        bytes += Math.max(0, rate(t / 1000) * (1 + (g - 3) / Math.sqrt(0.5) * noise)) * 1e6 / 8 * 0.1
        out.push({ tMs: t, bytes })
      }
      return out
    }
    // Decisions once a second from 3 s to the middle of a 15 s test, as transfer.ts takes them.
    const adds = (samples: Sample[]): boolean => [3000, 4000, 5000, 6000, 7000].some((t) =>
      shouldAddStreams({ samples: samples.filter((x) => x.tMs <= t), tMs: t, maxMs: 15_000, streams: 4 }))
    let flat = 0
    for (let i = 0; i < 400; i++) if (adds(noisy(() => 25, 0.2))) flat++
    // Three rising seconds alone came up in 144 of these 400 (36 %).
    expect(flat).toBeLessThanOrEqual(24)
    for (const growS of [3, 6, 10]) {
      let climbs = 0
      for (let i = 0; i < 100; i++) if (adds(noisy((t) => 100 * Math.min(1, 0.4 + 0.6 * t / growS), 0.05))) climbs++
      expect(climbs, `climb over ${growS} s`).toBe(100)
    }
  })

  it('does not count a rise from nothing (a stalled first second)', () => {
    const stalled = series(3, (t) => t < 1 ? 0 : 50)
    expect(shouldAddStreams({ samples: stalled, tMs: 3000, maxMs: 15_000, streams: 2 })).toBe(false)
  })
})

describe('early stop once stable, at any speed (issue 10, item 5)', () => {
  it('stops a stable link once 4 s of steady window are measured, at 500 and at 20 Mbps', () => {
    // Warm-up clamps to 1 s; 4.5 s of window measured.
    expect(earlyStopDue(series(5.5, () => 500), DOWNLOAD_WARMUP)).toBe(true)
    expect(earlyStopDue(series(4.5, () => 500), DOWNLOAD_WARMUP)).toBe(false)
    expect(earlyStopDue(series(5.5, () => 20), DOWNLOAD_WARMUP)).toBe(true)
  })
  it('does not count the seconds after streams were added toward the window', () => {
    // Streams added at 3 s: the window restarts at 5 s, so 4 s of it need 9 s.
    expect(earlyStopDue(series(6.5, () => 40), DOWNLOAD_WARMUP, EARLY_STOP, 3000)).toBe(false)
    expect(earlyStopDue(series(9.2, () => 40), DOWNLOAD_WARMUP, EARLY_STOP, 3000)).toBe(true)
  })
  it('does not stop while a start-up peak is still coming down', () => {
    expect(earlyStopDue(series(6, (t) => t < 1 ? 300 : t < 4 ? 300 - (t - 1) * 80 : 60), DOWNLOAD_WARMUP)).toBe(false)
  })
  it('keeps a per-direction byte budget by line class', () => {
    expect(byteBudgetForTier(40)).toBe(93_750_000)
    expect(byteBudgetForTier(100)).toBe(281_250_000)
    expect(byteBudgetForTier(300)).toBe(750_000_000)
    expect(byteBudgetForTier(1000)).toBe(1_875_000_000)
    expect(byteBudgetForTier(null)).toBe(1_875_000_000)
  })
  it('does not stop while the last three 1-s rates vary by more than 5 %', () => {
    const wobbly = series(8, (t) => t > 5 && Math.floor(t) % 2 === 0 ? 560 : 440)
    expect(earlyStopDue(wobbly, DOWNLOAD_WARMUP)).toBe(false)
  })
  it('uses the rule it is given', () => {
    expect(earlyStopDue(series(8, () => 150), DOWNLOAD_WARMUP, { ...EARLY_STOP, minMbps: 200 })).toBe(false)
  })
})
