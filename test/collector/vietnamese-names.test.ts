import { describe, expect, it } from 'vitest'
import { pathToFileURL } from 'node:url'
import { officialSpelling } from '../../collector/geo/names.js'
import { FIGURE_VI } from '../../collector/reports/labels-vi.js'
import { reportsMeta } from '../../collector/reports/meta.js'
import { DEFAULT_REPORT_RULES } from '../../collector/reports/rules.js'
import { seededDb } from './report-fixtures.js'

describe('one spelling of each place, one name of each measure', () => {
  it('officialSpelling() puts the tone of a final oa / oe / uy on the first vowel and leaves every other syllable alone', () => {
    expect(officialSpelling('Thanh Hoá')).toBe('Thanh Hóa')
    expect(officialSpelling('Khánh Hoà')).toBe('Khánh Hòa')
    expect(officialSpelling('Thanh Thuỷ')).toBe('Thanh Thủy')
    expect(officialSpelling('Kiến Thuỵ')).toBe('Kiến Thụy')
    expect(officialSpelling('Xã Hoà Lạc')).toBe('Xã Hòa Lạc')
    // Closed syllables and "qu" are the same in both conventions.
    for (const same of ['Hoàng Mai', 'Thuận An', 'Quý Lộc', 'Quỳnh Lưu', 'Huỳnh', 'Thanh Hóa']) expect(officialSpelling(same)).toBe(same)
  })

  it('the loaded geography writes every place one way: "Thanh Hóa" in both versions, no "Hoà" left', async () => {
    const f = await seededDb()
    try {
      const names = f.db.prepare('SELECT version, name, full_name AS fullName FROM geo_province UNION ALL SELECT version, name, full_name FROM geo_district UNION ALL SELECT version, name, full_name FROM geo_commune').all() as Array<{ version: string, name: string, fullName: string }>
      expect(names.length).toBe(63 + 696 + 10_035 + 34 + 3_321)
      const newStyle = /(?<![qQ])(o[àáảãạ]|o[èéẻẽẹ]|u[ỳýỷỹỵ])(?![\p{L}])/u
      expect(names.filter((n) => newStyle.test(n.name) || newStyle.test(n.fullName))).toEqual([])
      const thanhHoa = names.filter((n) => n.name === 'Thanh Hóa').map((n) => n.version)
      expect(thanhHoa).toEqual(expect.arrayContaining(['2025-03', '2025-07']))
    } finally {
      await f.close()
    }
  })

  it('exports and the report document name each measure as the dashboard does', async () => {
    // Both read the figure registry: the exports through FIGURE_VI, the dashboard through the meta reply.
    const meta = reportsMeta(DEFAULT_REPORT_RULES)
    for (const [key, name] of Object.entries(FIGURE_VI)) expect(meta.figures.find((f) => f.key === key)?.label.vi, key).toBe(name)
    // Neither dictionary value carries an English word for a measure.
    const vi = ((await import(pathToFileURL('collector/dashboard/public/js/i18n/vi.js').href)) as { default: Record<string, string> }).default
    for (const [key, value] of [...Object.entries(vi), ...meta.figures.map((f) => [f.labelKey, f.label.vi])]) if ((key as string).startsWith('figure.')) expect(value, key).not.toMatch(/\b(mean|median|latency)\b/i)
  })
})
