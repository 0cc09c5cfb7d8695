import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Resvg, initWasm } from '@resvg/resvg-wasm'
import { numberVi, type OfficialReport } from '../official-report.js'
import { areaBars, trendBars, type Bar } from './layout.js'
import { ROBOTO } from './fonts.js'

/*
 * The official report's charts, drawn once as SVG from the layout's bars: the PDF embeds the SVG
 * (pdfmake draws it as vectors, its text in the PDF's own Roboto), the .docx embeds the same SVG
 * with a PNG rendered from it by resvg (WebAssembly, no native addon) for word processors that do
 * not draw SVG. Labels are the report's own texts, so a chart never shows a number the API does not.
 */

export interface Chart {
  title: string
  svg: string
  /** Size in SVG user units (the PNG is rendered at twice this). */
  width: number
  height: number
}

const FONT = 'Roboto'
const BAR = '#4472C4'
const LINE = '#C55A11'
const TARGET = '#C00000'
const AXIS = '#595959'
const GRID = '#D9D9D9'

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
const f1 = (v: number): string => (Math.round(v * 10) / 10).toString()

function text (x: number, y: number, s: string, o: { anchor?: 'start' | 'middle' | 'end', size?: number, fill?: string, bold?: boolean } = {}): string {
  return `<text x="${f1(x)}" y="${f1(y)}" font-family="${FONT}" font-size="${o.size ?? 11}" fill="${o.fill ?? '#000000'}"${o.bold === true ? ' font-weight="bold"' : ''} text-anchor="${o.anchor ?? 'start'}">${esc(s)}</text>`
}

/** A round axis step giving about `count` ticks up to `max`. */
function niceStep (max: number, count = 4): number {
  const raw = max / count
  const p = 10 ** Math.floor(Math.log10(raw))
  const m = raw / p
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p
}

function svgDoc (width: number, height: number, body: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><rect x="0" y="0" width="${width}" height="${height}" fill="#FFFFFF"/>${body.join('')}</svg>`
}

/** The target lines of the current targets: one per threshold, naming the documents that set it. */
export function targetLines (r: OfficialReport): Array<{ mbps: number, label: string }> {
  const by = new Map<number, Set<string>>()
  for (const t of r.targets) {
    if (t.horizon || !(t.thresholdMbps > 0)) continue
    const docs = by.get(t.thresholdMbps) ?? new Set<string>()
    docs.add(t.document)
    by.set(t.thresholdMbps, docs)
  }
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([mbps, docs]) => ({ mbps, label: `Ngưỡng ${numberVi(mbps, 0)} Mb/s (${[...docs].join(', ')})` }))
}

/** Horizontal bars, one per area, with the targets' thresholds as dashed lines. */
export function areaChartSvg (bars: readonly Bar[], lines: ReadonlyArray<{ mbps: number, label: string }>): { svg: string, width: number, height: number } {
  const W = 640
  const left = 170
  const plotRight = 470
  const row = 18
  const top = 10 + lines.length * 14
  const plotH = Math.max(1, bars.length) * row
  const H = top + plotH + 26
  const max = Math.max(1, ...bars.map((b) => b.value ?? 0), ...lines.map((l) => l.mbps)) * 1.05
  const step = niceStep(max)
  const x = (v: number): number => left + (v / (Math.ceil(max / step) * step)) * (plotRight - left)
  const body: string[] = []
  for (let v = 0; v <= Math.ceil(max / step) * step + 1e-9; v += step) {
    body.push(`<line x1="${f1(x(v))}" y1="${top}" x2="${f1(x(v))}" y2="${top + plotH}" stroke="${GRID}" stroke-width="0.8"/>`)
    body.push(text(x(v), top + plotH + 14, numberVi(v, 0), { anchor: 'middle', size: 10, fill: AXIS }))
  }
  body.push(text(plotRight, top + plotH + 25, 'Mb/s', { anchor: 'end', size: 9, fill: AXIS }))
  bars.forEach((b, i) => {
    const y = top + i * row
    const label = b.label.length > 28 ? `${b.label.slice(0, 27)}…` : b.label
    body.push(text(left - 6, y + 13, label, { anchor: 'end', size: 10 }))
    if (b.value !== null && b.value > 0) body.push(`<rect x="${left}" y="${y + 3}" width="${f1(x(b.value) - left)}" height="${row - 6}" fill="${BAR}"/>`)
    body.push(text((b.value !== null ? x(b.value) : left) + 4, y + 13, b.text, { size: 10, fill: b.value === null ? AXIS : '#000000' }))
  })
  body.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="${AXIS}" stroke-width="1"/>`)
  lines.forEach((l, i) => {
    const lx = x(l.mbps)
    body.push(`<line x1="${f1(lx)}" y1="${top - 2}" x2="${f1(lx)}" y2="${top + plotH}" stroke="${TARGET}" stroke-width="1.5" stroke-dasharray="5,3"/>`)
    body.push(text(lx, 10 + i * 14, l.label, { anchor: lx > W / 2 ? 'end' : 'start', size: 10, fill: TARGET }))
  })
  return { svg: svgDoc(W, H, body), width: W, height: H }
}

/** The monthly mean download as a line with its points and values; months withheld break the line. */
export function trendChartSvg (bars: readonly Bar[]): { svg: string, width: number, height: number } {
  const W = 640
  const H = 240
  const left = 56
  const right = 596
  const top = 22
  const bottom = 200
  const max = Math.max(1, ...bars.map((b) => b.value ?? 0)) * 1.15
  const step = niceStep(max)
  const yMax = Math.ceil(max / step) * step
  const y = (v: number): number => bottom - (v / yMax) * (bottom - top)
  const n = Math.max(1, bars.length)
  const x = (i: number): number => left + (n === 1 ? (right - left) / 2 : (i / (n - 1)) * (right - left))
  const body: string[] = []
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    body.push(`<line x1="${left}" y1="${f1(y(v))}" x2="${right}" y2="${f1(y(v))}" stroke="${GRID}" stroke-width="0.8"/>`)
    body.push(text(left - 6, y(v) + 4, numberVi(v, 0), { anchor: 'end', size: 10, fill: AXIS }))
  }
  body.push(text(left - 6, top - 10, 'Mb/s', { anchor: 'end', size: 9, fill: AXIS }))
  const every = Math.ceil(bars.length / 12)
  bars.forEach((b, i) => { if (i % every === 0) body.push(text(x(i), bottom + 16, b.label, { anchor: 'middle', size: 9, fill: AXIS })) })
  let run: string[] = []
  const flush = (): void => { if (run.length > 1) body.push(`<polyline points="${run.join(' ')}" fill="none" stroke="${LINE}" stroke-width="2"/>`); run = [] }
  bars.forEach((b, i) => {
    if (b.value === null) { flush(); return }
    run.push(`${f1(x(i))},${f1(y(b.value))}`)
  })
  flush()
  bars.forEach((b, i) => {
    if (b.value === null) return
    body.push(`<circle cx="${f1(x(i))}" cy="${f1(y(b.value))}" r="3.5" fill="${LINE}"/>`)
    body.push(text(x(i), y(b.value) - 8, b.text, { anchor: 'middle', size: 9 }))
  })
  if (bars.every((b) => b.value === null)) body.push(text((left + right) / 2, (top + bottom) / 2, 'Chưa đủ dữ liệu để vẽ', { anchor: 'middle', size: 11, fill: AXIS }))
  body.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="${AXIS}" stroke-width="1"/>`)
  return { svg: svgDoc(W, H, body), width: W, height: H }
}

/** The report's charts, in the order both documents print them. */
export function officialCharts (r: OfficialReport): Chart[] {
  return [
    { title: `Biểu đồ 1. Tải xuống – trung bình theo ${r.subAreas.level.toLocaleLowerCase('vi')} (Mb/s), so với ngưỡng của các chỉ tiêu`, ...areaChartSvg(areaBars(r), targetLines(r)) },
    { title: 'Biểu đồ 2. Tải xuống – trung bình theo tháng (Mb/s)', ...trendChartSvg(trendBars(r)) }
  ]
}

let ready: Promise<void> | undefined
let fonts: Uint8Array[] | undefined

/** A chart as PNG, at `scale` pixels per SVG unit, its labels in the PDF's Roboto. */
export async function chartPng (c: Chart, scale = 2): Promise<Buffer> {
  const require = createRequire(import.meta.url)
  ready ??= initWasm(readFileSync(require.resolve('@resvg/resvg-wasm/index_bg.wasm')))
  await ready
  fonts ??= [ROBOTO.normal, ROBOTO.bold].map((p) => new Uint8Array(readFileSync(p)))
  const resvg = new Resvg(c.svg, { fitTo: { mode: 'width', value: Math.round(c.width * scale) }, font: { fontBuffers: fonts, defaultFontFamily: FONT, loadSystemFonts: false } })
  try {
    const image = resvg.render()
    try { return Buffer.from(image.asPng()) } finally { image.free() }
  } finally {
    resvg.free()
  }
}
