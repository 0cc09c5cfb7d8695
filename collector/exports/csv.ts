import type { Table } from './table.js'

/**
 * RFC 4180 quoting: a field with a comma, quote or line break is quoted, quotes doubled. Text that
 * Excel would run as a formula (=, +, -, @, tab, CR first: agency and ISP names are typed by
 * people) gets a leading apostrophe (OWASP CSV injection); numbers stay numbers.
 */
function field (v: string | number | null): string {
  if (v === null) return ''
  const s = typeof v === 'string' && /^[=+\-@\t\r]/.test(v) ? `'${v}` : String(v)
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/**
 * UTF-8 CSV with a byte-order mark, CRLF line ends: Excel opens it with Vietnamese intact (without
 * the BOM it guesses the ANSI code page and mangles the diacritics).
 */
export function toCsv (table: Table): Buffer {
  const lines = [table.headings, ...table.rows].map((r) => r.map(field).join(','))
  return Buffer.from('\uFEFF' + lines.join('\r\n') + '\r\n', 'utf8')
}
