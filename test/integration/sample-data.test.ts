import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import JSZip from 'jszip'
import { openCollectorFile, startTempCollector, type TempCollector } from '../helpers/temp-collector.js'
import { generateSampleData } from '../../collector/sample-data.js'
import { launchBrowser, type TestBrowser } from '../helpers/browser.js'

const NOW = Date.parse('2026-11-20T05:00:00Z')

/*
 * The sample database: generated from a fixed seed, through the real ingest, and marked
 * "Dữ liệu mẫu" on every page, export and document.
 */
describe('sample data', () => {
  let c: TempCollector
  let made: { agencies: number, results: number }
  let browser: TestBrowser
  beforeAll(async () => {
    c = await startTempCollector({ sampleData: true, departmentName: 'Sở Khoa học và Công nghệ tỉnh Quảng Ngãi' })
    made = await generateSampleData(c.app, { now: NOW })
    browser = await launchBrowser()
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
    await c?.close()
  })

  it('is a few dozen agencies over four months, the same on every run, and never added twice', async () => {
    expect(made.agencies).toBe(35) // 5 old communes in each of 7 districts of former Kon Tum
    expect(made.results).toBeGreaterThan(10_000)
    expect(await generateSampleData(c.app, { now: NOW })).toEqual({ agencies: 0, results: 0 })
    const other = await startTempCollector({ sampleData: true })
    try {
      expect(await generateSampleData(other.app, { now: NOW })).toEqual(made)
      const sum = (x: TempCollector): unknown => {
        const db = openCollectorFile(x)
        try { return db.prepare('SELECT count(*), round(sum(download_mbps), 6), min(result_id), max(result_id) FROM result').raw(true).get() } finally { db.close() }
      }
      expect(sum(other)).toEqual(sum(c))
    } finally {
      await other.close()
    }
  })

  it('fills the province overview: published figures and judged targets for Quảng Ngãi', async () => {
    const r: any = await (await request(`${c.url}/api/v1/reports/overview?province=51&period=rolling12&end=2026-11`)).body.json()
    expect(r.total.figures.downloadMean.status).toBe('ok')
    expect(r.total.coverage.agentsReporting).toBe(35)
    expect(r.targets.some((t: any) => t.met !== null)).toBe(true)
    // Six sample agencies sit in a high-tech zone: the zone target is judged on them, the rest left out.
    const zone = r.targets.find((t: any) => t.targetId === 'qd36-2025-high-tech-zone')
    expect(zone.figure).toMatchObject({ n: 6, status: 'ok' })
    expect(zone.leftOut.reasons.map((x: any) => x.reason)).toEqual(['high_tech_zone'])
  })

  it('marks every export and document', async () => {
    const ctx: any = await (await request(`${c.url}/dashboard/context.json`)).body.json()
    expect(ctx.sample).toBe(true)
    expect(ctx.defaultProvince).toEqual({ version: '2025-07', code: '51' })
    const csv = await request(`${c.url}/api/v1/reports/areas?level=commune&province=51&period=rolling12&end=2026-11&format=csv`)
    expect(String(csv.headers['content-disposition'])).toContain('du-lieu-mau')
    expect(await csv.body.text()).toContain('DỮ LIỆU MẪU')
    const official: any = await (await request(`${c.url}/api/v1/reports/official?province=51&end=2026-11`)).body.json()
    expect(official.sample).toBe(true)
    const docx = await request(`${c.url}/api/v1/reports/official?province=51&end=2026-11&format=docx`)
    expect(String(docx.headers['content-disposition'])).toContain('du-lieu-mau.docx')
    const zip = await JSZip.loadAsync(Buffer.from(await docx.body.arrayBuffer()))
    const headers = await Promise.all(Object.keys(zip.files).filter((f) => /^word\/header\d*\.xml$/.test(f)).map(async (f) => await zip.file(f)!.async('string')))
    expect(headers.join('')).toContain('DỮ LIỆU MẪU')
  })

  it('says "Dữ liệu mẫu" on every page of the dashboard, which opens on the 2025 province', async () => {
    const { page } = await browser.newPage()
    for (const hash of ['', '#/areas', '#/charts', '#/ipv6', '#/health']) {
      await page.goto(`${c.url}/dashboard/${hash}`)
      await page.waitForSelector('#view[aria-busy="false"]')
      await expect(page.locator('#sample-banner').isVisible()).resolves.toBe(true)
      await expect(page.locator('#sample-banner').textContent()).resolves.toContain('Dữ liệu mẫu')
    }
    await expect(page.locator('#province-picker').inputValue()).resolves.toBe('2025-07:51')
    await expect(page.locator('#province-picker optgroup').first().getAttribute('label')).resolves.toBe('Tỉnh hiện nay (từ 01/07/2025)')
    await page.close()
  })
})
