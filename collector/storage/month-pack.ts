import type { MonthRow } from './stores.js'
import type { TimeBand } from '../aggregation/time-bands.js'

/**
 * One province-month of rollup rows as a single blob (table rollup_month_pack, migration 021 on
 * both stores), built by the month-pack job (reports/month-pack-job.ts). Pure code: each store
 * keeps and reads the blob its own way.
 *
 * A rolling 12-month report of a province reads tens of thousands of agent-month-band rows; read
 * row by row they cost ~15 µs each on SQLite (index probe, table lookup, three blob copies per
 * row), most of a cold report. A pack is one contiguous blob per province and closed month.
 * Samples come back as the stored float64 values, so figures computed from a pack are bit for
 * bit the ones computed from the rows, in either layout.
 *
 * Both layouts start with a u32 header length H and H bytes of JSON { v, rows, strings, … }.
 *
 * Layout 1 (SQLite's): the JSON zero-padded to 8 bytes, then float64s: per row FIELDS numbers
 * (string indexes, counters, sample counts), then the samples of every row (down, up, idle) in
 * row order. Reading it is one copy, and every row's samples are views into it.
 *
 * Layout 2 (PostgreSQL's): per row five number lists: string indexes, counts and sample
 * counts; the three sums; the samples down, up and idle. A list is a mode byte and then either
 * (mode 1) the differences between consecutive values × 2000 as zigzag varints, or (mode 0) the
 * float64s themselves. Mode 1 is used only when every value v of the list comes back bit for
 * bit as round(v × 2000) ÷ 2000: results are stated to 0.001 and an hour's median of two lies
 * on a 0.0005 grid, so nearly every list qualifies, and sorted samples a few Mbps apart take
 * two bytes each. At 10 M results a province's 12 packs are 61 MB in layout 1 and about a
 * quarter of that in layout 2: PostgreSQL hands a bytea over through its TOAST table and the
 * protocol, which cost ~320 ms for layout 1 (docs/reports.md), while decoding layout 2 costs
 * about 12 ns a value. SQLite reads a blob as one local copy, where layout 1 costs nothing to
 * decode.
 */
export type PackLayout = 1 | 2

const STRING_FIELDS = ['agentId', 'agencyId', 'band', 'connectionClass', 'isp', 'communeCode', 'provinceCode', 'legacyDistrictCode', 'legacyProvinceCode'] as const
const NUMBER_FIELDS = ['nResults', 'nSpeed', 'nValid', 'nSkip', 'sumTestDown', 'nTestUp', 'sumTestUp', 'nTestIdle', 'sumTestIdle', 'nTestDownGe30'] as const
/** Layout 1's numbers per row: string indexes, NUMBER_FIELDS, then the three sample counts. */
const FIELDS = STRING_FIELDS.length + NUMBER_FIELDS.length + 3
const COUNT_FIELDS = ['nResults', 'nSpeed', 'nValid', 'nSkip', 'nTestUp', 'nTestIdle', 'nTestDownGe30'] as const
// Sums of test figures leave the 0.0005 grid once added up; a list of their own keeps the counts' list in mode 1.
const SUM_FIELDS = ['sumTestDown', 'sumTestUp', 'sumTestIdle'] as const
/** Layout 2's first list per row: string indexes, counts, then the three sample counts. */
const HEAD = STRING_FIELDS.length + COUNT_FIELDS.length + 3
const SCALE = 2000
const MAX_SCALED = 2 ** 51

interface Header { v: number, rows: number, samples?: number, strings: string[] }

function stringIndex (): { strings: string[], idx: (s: string) => number } {
  const strings: string[] = []
  const index = new Map<string, number>()
  return {
    strings,
    idx: (s) => {
      let i = index.get(s)
      if (i === undefined) { i = strings.length; strings.push(s); index.set(s, i) }
      return i
    }
  }
}

function withHeader (header: Header, bodyAlign: number, body: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8')
  const start = Math.ceil((4 + json.length) / bodyAlign) * bodyAlign
  const out = Buffer.alloc(start + body.byteLength)
  out.writeUInt32LE(json.length, 0)
  json.copy(out, 4)
  out.set(body, start)
  return out
}

export function encodePack (rows: readonly MonthRow[], layout: PackLayout): Buffer {
  return layout === 1 ? encodeLayout1(rows) : encodeLayout2(rows)
}

/** The rows of a pack; null when the pack was written in a layout this code does not know (then it is rebuilt). */
export function decodePack (blob: Buffer, month: string): MonthRow[] | null {
  const hlen = blob.readUInt32LE(0)
  const header = JSON.parse(blob.toString('utf8', 4, 4 + hlen)) as Header
  if (header.v === 1) return decodeLayout1(blob, hlen, header, month)
  if (header.v === 2) return decodeLayout2(blob, hlen, header, month)
  return null
}

function encodeLayout1 (rows: readonly MonthRow[]): Buffer {
  const { strings, idx } = stringIndex()
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
  return withHeader({ v: 1, rows: rows.length, strings }, 8, new Uint8Array(nums.buffer, nums.byteOffset, nums.byteLength))
}

/** Each field's position in its list, by name: the two lists above are the one definition of the layouts' order. */
const positions = <F extends string>(fields: readonly F[]): Record<F, number> => Object.fromEntries(fields.map((f, i) => [f, i])) as Record<F, number>
const S = positions(STRING_FIELDS)
const N = positions(NUMBER_FIELDS)

/**
 * A row from its string and number fields. One object literal, in the order storage/rows.ts
 * builds a row read from the table, so every MonthRow shares one hidden class: rows built by
 * assigning fields one by one (as this did for a while) made the reports' property reads
 * polymorphic: a cold rolling-12 report at 10 M results took twice as long (docs/reports.md).
 */
function rowOf (month: string, str: (i: number) => string, n: (i: number) => number, repDown: Float64Array, repUp: Float64Array, repIdle: Float64Array): MonthRow {
  return {
    agentId: str(S.agentId),
    agencyId: str(S.agencyId),
    month,
    band: str(S.band) as TimeBand,
    connectionClass: str(S.connectionClass),
    isp: str(S.isp),
    communeCode: str(S.communeCode),
    provinceCode: str(S.provinceCode),
    legacyDistrictCode: str(S.legacyDistrictCode),
    legacyProvinceCode: str(S.legacyProvinceCode),
    nResults: n(N.nResults),
    nSpeed: n(N.nSpeed),
    nValid: n(N.nValid),
    nSkip: n(N.nSkip),
    sumTestDown: n(N.sumTestDown),
    nTestUp: n(N.nTestUp),
    sumTestUp: n(N.sumTestUp),
    nTestIdle: n(N.nTestIdle),
    sumTestIdle: n(N.sumTestIdle),
    nTestDownGe30: n(N.nTestDownGe30),
    repDown,
    repUp,
    repIdle
  }
}

function decodeLayout1 (blob: Buffer, hlen: number, header: Header, month: string): MonthRow[] {
  const start = Math.ceil((4 + hlen) / 8) * 8
  // The blob is used in place when the driver's copy happens to be 8-byte aligned, else copied once.
  const count = (blob.byteLength - start) / 8
  let nums: Float64Array
  if ((blob.byteOffset + start) % 8 === 0) nums = new Float64Array(blob.buffer, blob.byteOffset + start, count)
  else {
    nums = new Float64Array(count)
    new Uint8Array(nums.buffer).set(blob.subarray(start))
  }
  const s = header.strings
  const out = new Array<MonthRow>(header.rows)
  let sample = header.rows * FIELDS
  for (let r = 0, at = 0; r < header.rows; r++, at += FIELDS) {
    const base = at
    const nDown = nums[at + FIELDS - 3] as number
    const nUp = nums[at + FIELDS - 2] as number
    const nIdle = nums[at + FIELDS - 1] as number
    const repDown = nums.subarray(sample, sample + nDown); sample += nDown
    const repUp = nums.subarray(sample, sample + nUp); sample += nUp
    const repIdle = nums.subarray(sample, sample + nIdle); sample += nIdle
    out[r] = rowOf(month, (i) => s[nums[base + i] as number] as string, (i) => nums[base + STRING_FIELDS.length + i] as number, repDown, repUp, repIdle)
  }
  return out
}

/** Appends layout 2's number lists to a byte buffer that grows as needed. */
class ListWriter {
  buf = Buffer.alloc(1 << 16)
  at = 0

  #room (n: number): void {
    if (this.at + n <= this.buf.length) return
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.at + n))
    this.buf.copy(next, 0, 0, this.at)
    this.buf = next
  }

  list (values: ArrayLike<number>): void {
    const n = values.length
    let scaled = true
    for (let i = 0; i < n && scaled; i++) {
      const v = values[i] as number
      const k = Math.round(v * SCALE)
      // |k| ≤ 2^51 keeps every difference's zigzag code (up to 4·|k|) a safe integer.
      scaled = Math.abs(k) <= MAX_SCALED && Object.is(k / SCALE, v)
    }
    // A zigzag code below 2^53 takes at most 8 varint bytes.
    this.#room(1 + n * 9)
    const b = this.buf
    if (!scaled) {
      b[this.at++] = 0
      for (let i = 0; i < n; i++) { b.writeDoubleLE(values[i] as number, this.at); this.at += 8 }
      return
    }
    b[this.at++] = 1
    let prev = 0
    for (let i = 0; i < n; i++) {
      const k = Math.round((values[i] as number) * SCALE)
      const d = k - prev
      prev = k
      let z = d >= 0 ? d * 2 : -d * 2 - 1
      while (z >= 128) { b[this.at++] = (z % 128) + 128; z = Math.floor(z / 128) }
      b[this.at++] = z
    }
  }
}

function encodeLayout2 (rows: readonly MonthRow[]): Buffer {
  const { strings, idx } = stringIndex()
  const w = new ListWriter()
  const head = new Float64Array(HEAD)
  const sums = new Float64Array(SUM_FIELDS.length)
  let samples = 0
  for (const r of rows) {
    let at = 0
    for (const f of STRING_FIELDS) head[at++] = idx(r[f])
    for (const f of COUNT_FIELDS) head[at++] = r[f]
    head[at++] = r.repDown.length
    head[at++] = r.repUp.length
    head[at++] = r.repIdle.length
    SUM_FIELDS.forEach((f, i) => { sums[i] = r[f] })
    w.list(head)
    w.list(sums)
    w.list(r.repDown)
    w.list(r.repUp)
    w.list(r.repIdle)
    samples += r.repDown.length + r.repUp.length + r.repIdle.length
  }
  return withHeader({ v: 2, rows: rows.length, samples, strings }, 1, w.buf.subarray(0, w.at))
}

/** Reads one list of n numbers into `into` from `at`; returns where the list ends in the blob. */
function readList (blob: Buffer, pos: number, into: Float64Array, at: number, n: number): number {
  const mode = blob[pos++]
  if (mode === 0) {
    for (let i = 0; i < n; i++) { into[at + i] = blob.readDoubleLE(pos); pos += 8 }
    return pos
  }
  if (mode !== 1) throw new Error(`month pack: unknown list mode ${String(mode)}`)
  let k = 0
  for (let i = 0; i < n; i++) {
    // One or two bytes for nearly every difference: those without the general loop.
    let z = blob[pos++] as number
    if (z >= 128) {
      const b1 = blob[pos++] as number
      if (b1 < 128) z = (z & 127) | (b1 << 7)
      else {
        z = (z & 127) + (b1 & 127) * 128
        let mul = 16384
        let byte: number
        do {
          byte = blob[pos++] as number
          z += (byte & 127) * mul
          mul *= 128
        } while (byte >= 128)
      }
    }
    k += z < 0x40000000 ? ((z >>> 1) ^ -(z & 1)) : (z % 2 === 0 ? z / 2 : -(z + 1) / 2)
    into[at + i] = k / SCALE
  }
  return pos
}

/** Layout 2's head list positions of NUMBER_FIELDS, in NUMBER_FIELDS' order (sums come from the second list). */
const NUMBER_AT = NUMBER_FIELDS.map((f) => {
  const c = (COUNT_FIELDS as readonly string[]).indexOf(f)
  return c >= 0 ? { list: 0, i: STRING_FIELDS.length + c } : { list: 1, i: (SUM_FIELDS as readonly string[]).indexOf(f) }
})

function decodeLayout2 (blob: Buffer, hlen: number, header: Header, month: string): MonthRow[] {
  // Every row's samples are views into one array (reports treat them as read-only).
  const nums = new Float64Array(header.samples ?? 0)
  const head = new Float64Array(HEAD)
  const sums = new Float64Array(SUM_FIELDS.length)
  const s = header.strings
  const str = (i: number): string => s[head[i] as number] as string
  const num = (i: number): number => {
    const at = NUMBER_AT[i] as { list: number, i: number }
    return (at.list === 0 ? head[at.i] : sums[at.i]) as number
  }
  const out = new Array<MonthRow>(header.rows)
  let pos = 4 + hlen
  let sample = 0
  for (let r = 0; r < header.rows; r++) {
    pos = readList(blob, pos, head, 0, HEAD)
    pos = readList(blob, pos, sums, 0, SUM_FIELDS.length)
    const counts = [head[HEAD - 3], head[HEAD - 2], head[HEAD - 1]] as [number, number, number]
    const reps = counts.map((n) => {
      const view = nums.subarray(sample, sample + n)
      pos = readList(blob, pos, nums, sample, n)
      sample += n
      return view
    }) as [Float64Array, Float64Array, Float64Array]
    out[r] = rowOf(month, str, num, ...reps)
  }
  return out
}
