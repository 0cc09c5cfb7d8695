import { describe, expect, it } from 'vitest'
import { loadedLatency, probeLoad } from '../../agent/measure/direction.js'

/**
 * A loaded-latency figure states the load it ran under (issue 10, item 6): a queue's delay
 * depends on what fills it. 100 Mbit/s of payload sampled every 100 ms; 4 streams, 6 from 3 s.
 */
const samples = Array.from({ length: 81 }, (_, i) => ({ tMs: i * 100, bytes: i * 100 * 12_500 }))
const streamSeries = samples.map((s) => (s.tMs === 0 ? 0 : s.tMs < 3000 ? 4 : 6))
const probes = Array.from({ length: 32 }, (_, i) => ({ tMs: i * 250, rttMs: i < 8 ? 5 : 40 }))

describe('loaded latency and its load', () => {
  it('keeps the probes after the warm-up and states the streams and goodput over their span', () => {
    const l = loadedLatency({ loadedProbes: probes, samples, streamSeries }, 2, 4)
    expect(l?.medianMs).toBe(40)
    expect(l?.increaseMs).toBe(36)
    expect(l?.rpm).toBe(1500)
    expect(l?.load).toEqual({ fromS: 2, toS: 7.79, mbps: 100, streamsMin: 4, streamsMax: 6 })
  })

  it('has no figure when every probe fell inside the warm-up', () => {
    expect(loadedLatency({ loadedProbes: probes.slice(0, 4), samples, streamSeries }, 2, 4)).toBeNull()
  })

  it('has no rate when fewer than two samples fall inside the span', () => {
    expect(probeLoad(samples, streamSeries, 1010, 1090)).toEqual({ fromS: 1.01, toS: 1.09, mbps: null, streamsMin: 0, streamsMax: 0 })
    expect(probeLoad(samples, streamSeries, 950, 1050)).toEqual({ fromS: 0.95, toS: 1.05, mbps: null, streamsMin: 4, streamsMax: 4 })
  })
})
