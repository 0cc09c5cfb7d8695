import ExcelJS from 'exceljs'
import type { Table } from './table.js'

/** Excel forbids []:*?/\ in sheet names and caps them at 31 characters. */
export function sheetName (title: string): string {
  return title.replace(/[[\]:*?/\\]/g, '-').slice(0, 31)
}

/** One sheet per report plus "Ghi chú" with the rules and the targets, their sources and why. */
export async function toXlsx (tables: readonly Table[]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook()
  wb.creator = 'tocdo'
  wb.created = new Date(0) // reproducible bytes for the same data
  for (const t of tables) {
    const ws = wb.addWorksheet(sheetName(t.title), { views: [{ state: 'frozen', ySplit: 1, xSplit: 3 }] })
    ws.addRow(t.headings)
    ws.getRow(1).font = { bold: true }
    ws.getRow(1).alignment = { wrapText: true, vertical: 'top' }
    for (const r of t.rows) ws.addRow(r)
    ws.columns.forEach((c, i) => { c.width = i < 3 ? 18 : 14 })
  }
  const notes = wb.addWorksheet('Ghi chú')
  notes.addRow(['Mục', 'Nội dung']).font = { bold: true }
  for (const t of tables) for (const [k, v] of t.notes) notes.addRow([k, v])
  notes.getColumn(1).width = 32
  notes.getColumn(2).width = 120
  notes.getColumn(2).alignment = { wrapText: true }
  return Buffer.from(await wb.xlsx.writeBuffer())
}
