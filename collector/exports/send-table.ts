import type { FastifyReply } from 'fastify'
import type { Table } from './table.js'
import { toCsv } from './csv.js'
import { toXlsx } from './xlsx.js'
import { SAMPLE_NOTE, SAMPLE_TITLE } from '../reports/labels-vi.js'

/** Sends a table as CSV (UTF-8 with BOM) or XLSX, with a file name that says what it holds. */
export async function sendTable (reply: FastifyReply, format: 'csv' | 'xlsx', tables: Table[], fileBase: string, sample = false): Promise<Buffer> {
  const name = `${fileBase}${sample ? '-du-lieu-mau' : ''}`.replace(/[^A-Za-z0-9._-]/g, '_')
  // Sample data is marked in the file name, the title, the notes and on every row.
  if (sample) {
    for (const t of tables) {
      t.title = `${SAMPLE_TITLE} – ${t.title}`
      t.notes.unshift(['Dữ liệu mẫu', SAMPLE_NOTE])
      t.headings = ['Loại dữ liệu', ...t.headings]
      t.rows = t.rows.map((r) => [SAMPLE_TITLE, ...r])
    }
  }
  if (format === 'csv') {
    void reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}.csv"`)
    return toCsv(tables[0] as Table)
  }
  void reply.type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet').header('content-disposition', `attachment; filename="${name}.xlsx"`)
  return await toXlsx(tables)
}
