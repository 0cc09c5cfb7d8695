import pdfmake from 'pdfmake'
import type { Content, TableCell } from 'pdfmake/interfaces.js'
import { VERDICT_VI, type OfficialReport, type Verdict } from '../official-report.js'
import { ROBOTO, ROBOTO_DIR } from './fonts.js'
import { LEGEND, MOTTO, NUMBER_LINE, RECIPIENTS, SAMPLE_MARK, SECTIONS, VERDICT_FILL, dateLine, headlineTable, targetsTable, areasTable, type TableCellContent, cells } from './layout.js'
import { officialCharts, type Chart } from './charts.js'

/*
 * The official report as a PDF, made on the collector without a browser: pdfmake (on PDFKit)
 * with the Roboto fonts it ships, which carry every Vietnamese letter. Same sections, texts and
 * numbers as the .docx (layout.ts).
 */

let configured = false
function configure (): void {
  if (configured) return
  pdfmake.setFonts({ Roboto: { ...ROBOTO } })
  // Only the font files may be read from disk; a document never names another local file.
  ;(pdfmake as unknown as { setLocalAccessPolicy: (f: (p: string) => boolean) => void }).setLocalAccessPolicy((p) => p.startsWith(ROBOTO_DIR))
  ;(pdfmake as unknown as { setUrlAccessPolicy?: (f: (u: string) => boolean) => void }).setUrlAccessPolicy?.(() => false)
  configured = true
}

const fill = (v: Verdict): string => `#${VERDICT_FILL[v]}`

function table (head: string[], rows: TableCellContent[][], widths?: Array<string | number>): Content {
  const body: TableCell[][] = [
    head.map((h) => ({ text: h, bold: true, fillColor: '#D9D9D9', alignment: 'center' as const })),
    ...rows.map((r) => r.map((c): TableCell => typeof c === 'string' ? { text: c } : { text: c.text, fillColor: fill(c.verdict) }))
  ]
  // A row is never split across pages: a reader must see a target's cells together.
  return { table: { headerRows: 1, dontBreakRows: true, widths: widths ?? head.map(() => '*'), body }, fontSize: 8.5, margin: [0, 2, 0, 8] }
}

/** A chart as the SVG both documents share (charts.ts), drawn by pdfmake as vectors, at the text width. */
function chart (c: Chart): Content[] {
  const width = 460
  return [
    { text: c.title, italics: true, margin: [0, 4, 0, 2] },
    { svg: c.svg, width, margin: [0, 0, 0, 8] }
  ]
}

export async function officialPdf (r: OfficialReport): Promise<Buffer> {
  configure()
  const content: Content[] = []
  if (r.sample) content.push({ text: SAMPLE_MARK, bold: true, color: '#C00000', alignment: 'center', margin: [0, 0, 0, 6] })
  content.push({
    columns: [
      {
        width: '42%',
        stack: [
          { text: r.header.parentBody, alignment: 'center', fontSize: 11 },
          { text: r.header.issuingBody === '' ? '.........................' : r.header.issuingBody, bold: true, alignment: 'center', fontSize: 11 },
          { text: '________', alignment: 'center', fontSize: 8 },
          { text: NUMBER_LINE, alignment: 'center', margin: [0, 4, 0, 0] }
        ]
      },
      {
        width: '58%',
        stack: [
          { text: MOTTO[0], bold: true, alignment: 'center', fontSize: 11 },
          { text: MOTTO[1], bold: true, alignment: 'center' },
          { text: '________________________', alignment: 'center', fontSize: 8 },
          { text: dateLine(r.header.place), italics: true, alignment: 'center', margin: [0, 4, 0, 0] }
        ]
      }
    ],
    margin: [0, 0, 0, 16]
  })
  content.push({ text: r.title, bold: true, fontSize: 14, alignment: 'center' })
  content.push({ text: r.subtitle, bold: true, alignment: 'center', margin: [0, 0, 0, 12] })

  const h = (text: string): Content => ({ text, bold: true, margin: [0, 8, 0, 4] })
  content.push(h(SECTIONS.scope), { text: `Địa bàn: ${r.area.kind}. Kỳ báo cáo: ${r.period.text}.` }, { text: `Độ phủ: ${r.coverage.text}.` })
  content.push(h(SECTIONS.headline), table(...cells(headlineTable(r))))
  content.push(h(SECTIONS.targets), table(...cells(targetsTable(r)), [70, '*', '*', 70, 55]))
  content.push({ text: ['Chú giải màu: ', ...LEGEND.map(([, words], i) => `${i === 0 ? '' : '; '}${['xanh', 'vàng', 'đỏ', 'xám'][i] ?? ''} – ${words}`)], italics: true, fontSize: 8.5 })

  content.push(h(SECTIONS.areas), table(...cells(areasTable(r))))

  content.push(h(SECTIONS.charts), ...officialCharts(r).flatMap(chart))

  content.push({ text: 'Tốc độ ổn định 80/80 theo nhà mạng và gói cước', italics: true, margin: [0, 4, 0, 2] })
  if (r.consistentSpeed.tiers.length > 0) content.push(table(['Nhà mạng', 'Loại kết nối', 'Gói cước', 'Tỷ lệ so với gói cước', 'Quy ra Mb/s', 'Đường truyền đủ mẫu / cùng gói'], r.consistentSpeed.tiers.map((x) => [x.isp, x.connectionClass, x.tier, x.shareText, x.mbpsText, x.lines])))
  content.push({ text: r.consistentSpeed.note, fontSize: 9, alignment: 'justify' })
  content.push(h(SECTIONS.ipv6), { text: `Số cơ quan: ${r.ipv6.agencies}; đã có kết quả kiểm tra: ${r.ipv6.known}; tỷ lệ sẵn sàng IPv6: ${r.ipv6.readyShareText}.` })
  if (r.ipv6.levels.length > 0) content.push(table(r.ipv6.levels.map((l) => l.name), [r.ipv6.levels.map((l) => `${l.count}`)]))
  if (r.ipv6.targets.length > 0) content.push(table(['Văn bản', 'Đạt / yêu cầu', 'Kết luận'], r.ipv6.targets.map((t) => [`${t.document} (${t.year})`, t.text, { text: VERDICT_VI[t.verdict], verdict: t.verdict }])))

  content.push(h(SECTIONS.method), { ul: r.method, alignment: 'justify' })
  content.push(h(SECTIONS.allTargets), table(['Văn bản', 'Cơ quan ban hành, ngày', 'Năm', 'Chỉ tiêu', 'Đối tượng', 'Trong báo cáo này'], [
    ...r.allTargets.map((t) => [t.document + (t.section === null ? '' : `, mục ${t.section}`), [t.issuer, t.date].filter((x) => x !== null).join(', '), t.year === null ? '' : `${t.year}`, t.rule, t.scope, `${t.evaluated} (${t.status})`]),
    ...r.knownGaps.map((g) => [g.document, [g.issuer, g.date].filter((x) => x !== null).join(', '), '', '', '', g.why])
  ]))
  content.push({
    columns: [
      { width: '50%', stack: RECIPIENTS.map((x, i) => ({ text: x, bold: i === 0, italics: i === 0, fontSize: i === 0 ? 11 : 10 })) },
      { width: '50%', stack: [{ text: 'THỦ TRƯỞNG CƠ QUAN', bold: true, alignment: 'center' }, { text: '(Ký, ghi rõ họ tên và đóng dấu)', italics: true, alignment: 'center', fontSize: 10 }] }
    ],
    margin: [0, 16, 0, 0]
  })

  const doc = pdfmake.createPdf({
    info: { title: r.subtitle, creator: 'tocdo' },
    pageSize: 'A4',
    // Nghị định 30/2020/NĐ-CP margins: top/bottom 20 mm, left 30 mm, right 15 mm (in points).
    pageMargins: [85, 57, 43, 57],
    defaultStyle: { font: 'Roboto', fontSize: 11 },
    ...(r.sample ? { header: { text: SAMPLE_MARK, alignment: 'center', fontSize: 8, color: '#C00000', margin: [0, 20, 0, 0] } } : {}),
    content
  })
  return await (doc.getBuffer() as unknown as Promise<Buffer>)
}
