import type { MonthRow } from '../stores.js'
import type { TimeBand } from '../../aggregation/time-bands.js'

/**
 * One province-month of rollup rows as a single blob (table rollup_month_pack, migration 021), built by the month-pack job (reports/month-pack-job.ts).
 *
 * A rolling 12-month report of a province reads tens of thousands of agent-month-band rows; read
 * row by row through SQLite they cost ~15 µs each (index probe, table lookup, three blob copies
 * per row), most of a cold report. A pack is one contiguous blob per province and closed month:
 * reading it is one copy into an ArrayBuffer, and every row's samples are views into it.
 *
 * Layout (little-endian, as typed arrays lay it out on every platform Node supports):
 *   u32 header length H, then H bytes of JSON { v, rows, strings }, zero-padded to 8 bytes;
 *   then float64s: per row FIELDS numbers (string indexes, counters, sample counts), then the
 *   samples of every row (down, up, idle) in row order. Samples are the stored float64 values,
 *   so figures computed from a pack are bit-for-bit the ones computed from the rows.
 */
const VERSION = 1
const STRING_FIELDS = ['agentId', 'agencyId', 'band', 'connectionClass', 'isp', 'communeCode', 'provinceCode', 'legacyDistrictCode', 'legacyProvinceCode'] as const
const NUMBER_FIELDS = ['nResults', 'nSpeed', 'nValid', 'nSkip', 'sumTestDown', 'nTestUp', 'sumTestUp', 'nTestIdle', 'sumTestIdle', 'nTestDownGe30'] as const
const FIELDS = STRING_FIELDS.length + NUMBER_FIELDS.length + 3

export function encodePack (rows: readonly MonthRow[]): Buffer {
  const strings: string[] = []
  const index = new Map<string, number>()
  const idx = (s: string): number => {
    let i = index.get(s)
    if (i === undefined) { i = strings.length; strings.push(s); index.set(s, i) }
    return i
  }
  let samples = 0
  for (const r of rows) samples += r.repDown.length + r.repUp.length + r.repIdle.length
  const nums = new Float64Array(rows.length * FIELDS + samples)
  let at = 0
  for (const r of rows) {
    for (const f of STRING_FIELDS) nums[at++] = idx(r[f])
    for (const f of NUMBER_FIELDS) nums[at++] = r[f]
    nums[at++] = r.repDown.length
    nums[at++] = r.repUp.length
    nums[at++] = r.repIdle.length
  }
  for (const r of rows) {
    nums.set(r.repDown, at); at += r.repDown.length
    nums.set(r.repUp, at); at += r.repUp.length
    nums.set(r.repIdle, at); at += r.repIdle.length
  }
  const header = Buffer.from(JSON.stringify({ v: VERSION, rows: rows.length, strings }), 'utf8')
  const start = Math.ceil((4 + header.length) / 8) * 8
  const out = Buffer.alloc(start + nums.byteLength)
  out.writeUInt32LE(header.length, 0)
  header.copy(out, 4)
  Buffer.from(nums.buffer, nums.byteOffset, nums.byteLength).copy(out, start)
  return out
}

/** The rows of a pack; null when the pack was written by another layout version (then it is rebuilt). */
export function decodePack (blob: Buffer, month: string): MonthRow[] | null {
  const hlen = blob.readUInt32LE(0)
  const header = JSON.parse(blob.toString('utf8', 4, 4 + hlen)) as { v: number, rows: number, strings: string[] }
  if (header.v !== VERSION) return null
  const start = Math.ceil((4 + hlen) / 8) * 8
  // Every row's samples are views into one array (reports treat them as read-only); the blob is
  // used in place when SQLite's copy happens to be 8-byte aligned, else copied once.
  const count = (blob.byteLength - start) / 8
  let nums: Float64Array
  if ((blob.byteOffset + start) % 8 === 0) nums = new Float64Array(blob.buffer, blob.byteOffset + start, count)
  else {
    nums = new Float64Array(count)
    new Uint8Array(nums.buffer).set(blob.subarray(start))
  }
  const s = header.strings
  const str = (i: number): string => s[nums[i] as number] as string
  const out = new Array<MonthRow>(header.rows)
  let sample = header.rows * FIELDS
  for (let r = 0, at = 0; r < header.rows; r++, at += FIELDS) {
    const nDown = nums[at + 19] as number
    const nUp = nums[at + 20] as number
    const nIdle = nums[at + 21] as number
    const repDown = nums.subarray(sample, sample + nDown); sample += nDown
    const repUp = nums.subarray(sample, sample + nUp); sample += nUp
    const repIdle = nums.subarray(sample, sample + nIdle); sample += nIdle
    out[r] = {
      agentId: str(at),
      agencyId: str(at + 1),
      month,
      band: str(at + 2) as TimeBand,
      connectionClass: str(at + 3),
      isp: str(at + 4),
      communeCode: str(at + 5),
      provinceCode: str(at + 6),
      legacyDistrictCode: str(at + 7),
      legacyProvinceCode: str(at + 8),
      nResults: nums[at + 9] as number,
      nSpeed: nums[at + 10] as number,
      nValid: nums[at + 11] as number,
      nSkip: nums[at + 12] as number,
      sumTestDown: nums[at + 13] as number,
      nTestUp: nums[at + 14] as number,
      sumTestUp: nums[at + 15] as number,
      nTestIdle: nums[at + 16] as number,
      sumTestIdle: nums[at + 17] as number,
      nTestDownGe30: nums[at + 18] as number,
      repDown,
      repUp,
      repIdle
    }
  }
  return out
}
