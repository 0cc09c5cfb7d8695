import {
  AlignmentType, BorderStyle, Document, Header, ImageRun, Packer, Paragraph, ShadingType, Table, TableCell, TableRow, TextRun, WidthType,
  type ParagraphChild
} from 'docx'
import { VERDICT_VI, type OfficialReport } from '../official-report.js'
import { LEGEND, MOTTO, NUMBER_LINE, RECIPIENTS, SAMPLE_MARK, SECTIONS, VERDICT_FILL, dateLine, headlineTable, targetsTable, areasTable, type TableCellContent, cells } from './layout.js'
import { chartPng, officialCharts, type Chart } from './charts.js'

/*
 * The official report as a Word document (Nghị định 30/2020/NĐ-CP layout: Times New Roman 13,
 * A4, left margin 30 mm, the two header columns, the title, numbered sections, recipients and
 * the signature block left blank). Built with the `docx` package, no template file.
 */

const FONT = 'Times New Roman'
const SIZE = 26 // half-points: 13 pt
const NONE = { style: BorderStyle.NONE, size: 0, color: 'FFFFFF' }
const NO_BORDERS = { top: NONE, bottom: NONE, left: NONE, right: NONE, insideHorizontal: NONE, insideVertical: NONE }

const run = (text: string, o: { bold?: boolean, italics?: boolean, size?: number } = {}): TextRun => new TextRun({ text, font: FONT, size: o.size ?? SIZE, bold: o.bold, italics: o.italics })
const para = (children: ParagraphChild[] | string, o: { align?: (typeof AlignmentType)[keyof typeof AlignmentType], bold?: boolean, italics?: boolean, size?: number, after?: number } = {}): Paragraph =>
  new Paragraph({ alignment: o.align, spacing: { after: o.after ?? 80 }, children: typeof children === 'string' ? [run(children, o)] : children })
const heading = (text: string): Paragraph => para([run(text, { bold: true })], { after: 120 })

function cell (text: string, o: { fill?: string, bold?: boolean, width?: number, align?: (typeof AlignmentType)[keyof typeof AlignmentType] } = {}): TableCell {
  return new TableCell({
    children: [para([run(text, { bold: o.bold, size: 22 })], { align: o.align, after: 0 })],
    ...(o.fill === undefined ? {} : { shading: { type: ShadingType.CLEAR, fill: o.fill, color: 'auto' } }),
    ...(o.width === undefined ? {} : { width: { size: o.width, type: WidthType.PERCENTAGE } })
  })
}

function table (head: string[], rows: TableCellContent[][]): Table {
  return new Table({
    width: { size: 100, type: WidthType.PERCENTAGE },
    rows: [
      new TableRow({ tableHeader: true, children: head.map((h) => cell(h, { bold: true, fill: 'D9D9D9', align: AlignmentType.CENTER })) }),
      ...rows.map((r) => new TableRow({ children: r.map((c) => typeof c === 'string' ? cell(c) : cell(c.text, { fill: VERDICT_FILL[c.verdict] })) }))
    ]
  })
}

/** A chart as an image: the SVG both documents share (charts.ts), with its PNG rendering for word processors that draw no SVG. */
async function chart (c: Chart): Promise<Paragraph[]> {
  // 600 px at 96 dpi fits the text width of an A4 page with these margins (165 mm).
  const width = 600
  return [
    para([run(c.title, { italics: true })]),
    new Paragraph({
      alignment: AlignmentType.CENTER,
      spacing: { after: 160 },
      children: [new ImageRun({
        type: 'svg',
        data: Buffer.from(c.svg, 'utf8'),
        fallback: { type: 'png', data: await chartPng(c) },
        transformation: { width, height: Math.round(width * c.height / c.width) },
        altText: { name: c.title, title: c.title, description: c.title }
      })]
    })
  ]
}

function header (r: OfficialReport): Table {
  const left = [r.header.parentBody, r.header.issuingBody === '' ? '.........................' : r.header.issuingBody]
  return new Table({
    width: { size: 100, type: WidthType.PERCENTAGE },
    borders: NO_BORDERS,
    rows: [new TableRow({
      children: [
        new TableCell({
          width: { size: 42, type: WidthType.PERCENTAGE },
          children: [
            para(left[0] ?? '', { align: AlignmentType.CENTER, after: 0, size: 24 }),
            para([run(left[1] ?? '', { bold: true, size: 24 })], { align: AlignmentType.CENTER, after: 0 }),
            para('________', { align: AlignmentType.CENTER, after: 60, size: 20 }),
            para(NUMBER_LINE, { align: AlignmentType.CENTER })
          ]
        }),
        new TableCell({
          width: { size: 58, type: WidthType.PERCENTAGE },
          children: [
            para([run(MOTTO[0], { bold: true, size: 24 })], { align: AlignmentType.CENTER, after: 0 }),
            para([run(MOTTO[1], { bold: true })], { align: AlignmentType.CENTER, after: 0 }),
            para('________________________', { align: AlignmentType.CENTER, after: 60, size: 20 }),
            para([run(dateLine(r.header.place), { italics: true })], { align: AlignmentType.CENTER })
          ]
        })
      ]
    })]
  })
}

export async function officialDocx (r: OfficialReport): Promise<Buffer> {
  const body: Array<Paragraph | Table> = []
  if (r.sample) body.push(para([run(SAMPLE_MARK, { bold: true })], { align: AlignmentType.CENTER }))
  body.push(header(r))
  body.push(para([run(r.title, { bold: true, size: 28 })], { align: AlignmentType.CENTER, after: 0 }))
  body.push(para([run(r.subtitle, { bold: true })], { align: AlignmentType.CENTER, after: 240 }))

  body.push(heading(SECTIONS.scope))
  body.push(para(`Địa bàn: ${r.area.kind}. Kỳ báo cáo: ${r.period.text}.`))
  body.push(para(`Độ phủ: ${r.coverage.text}.`))

  body.push(heading(SECTIONS.headline))
  body.push(table(...cells(headlineTable(r))))

  body.push(heading(SECTIONS.targets))
  body.push(table(...cells(targetsTable(r))))
  body.push(para([run('Chú giải màu: ', { italics: true }), ...LEGEND.map(([, words], i) => run(`${i === 0 ? '' : '; '}${['xanh', 'vàng', 'đỏ', 'xám'][i] ?? ''} – ${words}`, { italics: true, size: 22 }))]))

  body.push(heading(SECTIONS.areas))
  body.push(table(...cells(areasTable(r))))

  body.push(heading(SECTIONS.charts))
  for (const c of officialCharts(r)) body.push(...await chart(c))

  body.push(para([run('Tốc độ ổn định 80/80 theo nhà mạng và gói cước', { italics: true })]))
  if (r.consistentSpeed.tiers.length > 0) body.push(table(['Nhà mạng', 'Loại kết nối', 'Gói cước', 'Tỷ lệ so với gói cước', 'Quy ra Mb/s', 'Đường truyền đủ mẫu / cùng gói'], r.consistentSpeed.tiers.map((x) => [x.isp, x.connectionClass, x.tier, x.shareText, x.mbpsText, x.lines])))
  body.push(para(r.consistentSpeed.note, { align: AlignmentType.JUSTIFIED, size: 22 }))

  body.push(heading(SECTIONS.ipv6))
  body.push(para(`Số cơ quan: ${r.ipv6.agencies}; đã có kết quả kiểm tra: ${r.ipv6.known}; tỷ lệ sẵn sàng IPv6: ${r.ipv6.readyShareText}.`))
  if (r.ipv6.levels.length > 0) body.push(table(r.ipv6.levels.map((l) => l.name), [r.ipv6.levels.map((l) => `${l.count}`)]))
  if (r.ipv6.targets.length > 0) body.push(table(['Văn bản', 'Đạt / yêu cầu', 'Kết luận'], r.ipv6.targets.map((t) => [`${t.document} (${t.year})`, t.text, { text: VERDICT_VI[t.verdict], verdict: t.verdict }])))

  body.push(heading(SECTIONS.method))
  for (const m of r.method) body.push(para(`- ${m}`, { align: AlignmentType.JUSTIFIED }))

  body.push(heading(SECTIONS.allTargets))
  body.push(table(['Văn bản', 'Cơ quan ban hành, ngày', 'Năm', 'Chỉ tiêu', 'Đối tượng', 'Trong báo cáo này'], [
    ...r.allTargets.map((t) => [t.document + (t.section === null ? '' : `, mục ${t.section}`), [t.issuer, t.date].filter((x) => x !== null).join(', '), t.year === null ? '' : `${t.year}`, t.rule, t.scope, `${t.evaluated} (${t.status})`]),
    ...r.knownGaps.map((g) => [g.document, [g.issuer, g.date].filter((x) => x !== null).join(', '), '', '', '', g.why])
  ]))

  body.push(new Table({
    width: { size: 100, type: WidthType.PERCENTAGE },
    borders: NO_BORDERS,
    rows: [new TableRow({
      children: [
        new TableCell({ width: { size: 50, type: WidthType.PERCENTAGE }, children: RECIPIENTS.map((x, i) => para([run(x, { bold: i === 0, italics: i === 0, size: i === 0 ? 24 : 22 })], { after: 0 })) }),
        new TableCell({ width: { size: 50, type: WidthType.PERCENTAGE }, children: [para([run('THỦ TRƯỞNG CƠ QUAN', { bold: true })], { align: AlignmentType.CENTER, after: 0 }), para([run('(Ký, ghi rõ họ tên và đóng dấu)', { italics: true, size: 22 })], { align: AlignmentType.CENTER })] })
      ]
    })]
  }))

  const doc = new Document({
    creator: 'tocdo',
    title: r.subtitle,
    styles: { default: { document: { run: { font: FONT, size: SIZE } } } },
    sections: [{
      // A4, margins per Nghị định 30/2020/NĐ-CP: top/bottom 20 mm, left 30 mm, right 15 mm (in twips).
      properties: { page: { size: { width: 11906, height: 16838 }, margin: { top: 1134, bottom: 1134, left: 1701, right: 850 } } },
      // Sample data says so on every page, not only the first.
      ...(r.sample ? { headers: { default: new Header({ children: [para([run(SAMPLE_MARK, { bold: true, size: 18 })], { align: AlignmentType.CENTER, after: 0 })] }) } } : {}),
      children: body
    }]
  })
  return await Packer.toBuffer(doc)
}
