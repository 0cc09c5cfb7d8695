import { describe, it, expect } from 'vitest'
import {
  INITIAL_MESSAGE_SIZE, MAX_QUERY_BYTES, MAX_SCALED_MESSAGE_SIZE, buildMeasurement, formatEndpoint, nextMessageSize,
  parseNdt7Query
} from '../../collector/speedtest/ndt7-spec.js'

/** Sizes of the first `count` messages a sender following the rule would queue. */
function simulate (count: number): number[] {
  const sizes: number[] = []
  let size = INITIAL_MESSAGE_SIZE
  let total = 0
  for (let i = 0; i < count; i++) {
    sizes.push(size)
    total += size
    size = nextMessageSize(size, total)
  }
  return sizes
}

describe('ndt7 message size rule (spec appendix)', () => {
  it('keeps the size while it is at least 1/16 of the bytes queued', () => {
    expect(nextMessageSize(8192, 8192)).toBe(8192)
    expect(nextMessageSize(8192, 16 * 8192)).toBe(8192) // equal: not yet smaller
    expect(nextMessageSize(8192, 16 * 8192 + 16)).toBe(16384)
    expect(nextMessageSize(8192, 17 * 8192)).toBe(16384)
  })

  it('starts at 1<<13, doubles after 17 messages, then every 16, and never exceeds 1<<20', () => {
    const sizes = simulate(400)
    expect(sizes[0]).toBe(1 << 13)
    expect(sizes.slice(0, 17).every((s) => s === 1 << 13)).toBe(true)
    expect(sizes[17]).toBe(1 << 14)
    // After the first doubling the queued total is ~16x the new size, so each later size
    // lasts 8 messages (total doubles with it).
    expect(sizes.slice(17, 25).every((s) => s === 1 << 14)).toBe(true)
    expect(sizes[25]).toBe(1 << 15)
    expect(sizes.every((s, i) => i === 0 || s === sizes[i - 1] || s === 2 * (sizes[i - 1] ?? 0))).toBe(true)
    expect(Math.max(...sizes)).toBe(MAX_SCALED_MESSAGE_SIZE)
    expect(sizes.at(-1)).toBe(MAX_SCALED_MESSAGE_SIZE)
  })

  it('stays at the cap however much has been sent', () => {
    expect(nextMessageSize(MAX_SCALED_MESSAGE_SIZE, 1e12)).toBe(MAX_SCALED_MESSAGE_SIZE)
  })
})

describe('ndt7 query string', () => {
  it('keeps client metadata, drops server_ keys, ignores duplicates, allows empty values', () => {
    const r = parseNdt7Query('client_name=ndt7-js+test&client_library_version=0.1.4&server_x=1&client_name=dup&flag')
    expect(r).toEqual({
      ok: true,
      metadata: { client_name: 'ndt7-js test', client_library_version: '0.1.4', flag: '' },
      earlyExitBytes: null
    })
    expect(parseNdt7Query('')).toEqual({ ok: true, metadata: {}, earlyExitBytes: null })
  })

  it('accepts early_exit=250 as 250 MB and rejects other values', () => {
    const r = parseNdt7Query('early_exit=250')
    expect(r.ok && r.earlyExitBytes).toBe(250_000_000)
    expect(parseNdt7Query('early_exit=123').ok).toBe(false)
    expect(parseNdt7Query('early_exit=').ok).toBe(false)
    expect(parseNdt7Query('early_exit').ok).toBe(false)
  })

  it('rejects over-long and badly encoded query strings', () => {
    expect(parseNdt7Query(`a=${'x'.repeat(MAX_QUERY_BYTES)}`).ok).toBe(false)
    expect(parseNdt7Query(`a=${'x'.repeat(MAX_QUERY_BYTES - 2)}`).ok).toBe(true)
    expect(parseNdt7Query('a=%E0%A4%A').ok).toBe(false) // truncated escape
    expect(parseNdt7Query('a=%FF').ok).toBe(false) // not UTF-8
  })
})

describe('ndt7 measurement message', () => {
  it('uses the v0.9 field names and microseconds, with optional ConnectionInfo', () => {
    expect(buildMeasurement('download', 1234.5678, 42)).toEqual({
      AppInfo: { ElapsedTime: 1234568, NumBytes: 42 },
      Origin: 'server',
      Test: 'download'
    })
    const info = { Client: '127.0.0.1:5000', Server: '[::1]:80', UUID: 'u' }
    expect(buildMeasurement('upload', 0, 0, info).ConnectionInfo).toEqual(info)
  })

  it('formats endpoints with brackets for IPv6', () => {
    expect(formatEndpoint('127.0.0.1', 8080)).toBe('127.0.0.1:8080')
    expect(formatEndpoint('::1', 443)).toBe('[::1]:443')
  })
})
