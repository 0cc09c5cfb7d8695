import { describe, expect, it } from 'vitest'
import { areaChartSvg, chartPng, trendChartSvg } from '../../collector/reports/document/charts.js'

const png = async (svg: string): Promise<Buffer> => await chartPng({ title: 't', svg, width: 120, height: 40 }, 1)
const word = (s: string): string => `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" fill="#FFFFFF"/>${s === '' ? '' : `<text x="10" y="30" font-family="Roboto" font-size="24">${s}</text>`}</svg>`

describe('official report charts', () => {
  it('draw the areas as bars scaled to the largest value or target, a withheld area with its text and no bar', () => {
    const { svg } = areaChartSvg([
      { label: 'Kon Tum', value: 1100, text: '1.100 Mb/s' },
      { label: 'Đắk Glei', value: null, text: 'chưa đủ dữ liệu (n = 5 < 10)' }
    ], [{ mbps: 1000, label: 'Ngưỡng 1.000 Mb/s (QĐ 36/QĐ-TTg)' }])
    // Scale: max(1100, 1000) x 1.05 = 1155, step 500 -> axis 0..1500 over 300 units (170..470): 1100 -> 220, 1000 -> 200.
    expect(svg.match(/<rect x="170"[^>]*width="([0-9.]+)"/)?.[1]).toBe('220')
    expect(svg.match(/<rect /g)).toHaveLength(2) // the background and one bar: the withheld area has none
    expect(svg).toContain('x1="370" y1="22" x2="370"') // the 1,000 Mb/s line at 170 + 200, from above the first row
    expect(svg).toContain('chưa đủ dữ liệu (n = 5 &lt; 10)')
  })

  it('draw the monthly trend as a line broken where a month is withheld', () => {
    const { svg } = trendChartSvg([
      { label: '01/2026', value: 100, text: '100 Mb/s' },
      { label: '02/2026', value: 200, text: '200 Mb/s' },
      { label: '03/2026', value: null, text: 'không có dữ liệu' },
      { label: '04/2026', value: 150, text: '150 Mb/s' }
    ])
    // Two months joined, then a gap: one polyline of two points, three points in all.
    expect(svg.match(/<polyline points="([^"]*)"/g)).toHaveLength(1)
    expect(svg.match(/<circle /g)).toHaveLength(3)
    expect(svg).toContain('150 Mb/s')
  })

  it('render Vietnamese letters in the PNG with the embedded font: ữ is drawn, and differently from u', async () => {
    const blank = await png(word(''))
    const u = await png(word('u'))
    const uu = await png(word('ữ'))
    expect(uu.subarray(0, 4)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]))
    expect(uu.equals(blank)).toBe(false)
    expect(uu.equals(u)).toBe(false)
  })
})
