import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync, statSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import type { Page } from 'playwright-core'
import { openCollectorFile, startTempCollector, type TempCollector } from '../helpers/temp-collector.js'
import { addAgency, call, enrol, sync, syncBody } from '../helpers/fleet-client.js'
import { launchBrowser, type TestBrowser } from '../helpers/browser.js'
import { ipv6OnlyRecord, speedRecord } from '../fixtures/records.js'

const ADMIN = 'dashboard-e2e-admin-token-0123456789'
const DEPARTMENT = 'Sở Khoa học và Công nghệ (bản thử nghiệm)'
const HOUR = 3_600_000
const SHOTS = 'test-results'

/**
 * The seeded fleet, former Kon Tum (62), all fixed lines of organisations, one speed test per
 * agent per clock hour so every test is its own representative sample:
 *
 * - district 608 (TP. Kon Tum), all now in Phường Kon Tum (an urban ward, so the QĐ 36 target
 *   for urban organisations, 1 Gb/s for 90 % of lines, counts them): five agencies, one agent
 *   each, 64 hourly tests at a constant speed per agent: 750, 900, 1050, 1250, 1500 Mb/s down
 *   (half that up; idle 10–18 ms). 320 samples ≥ 300, 5 agents ≥ 5, so everything is published:
 *     download mean   = (750 + 900 + 1050 + 1250 + 1500) / 5 = 1090 Mb/s
 *     download median = samples 160 and 161 of 320 sorted, both in the 1050 block = 1050 Mb/s
 *     upload mean 545, median 525; idle latency median 14 ms
 *     share of agents with mean ≥ 1000 = 3 / 5 = 60 % < 90 % → not met, 0.6 / 0.9 < 0.8 → red
 *   The QĐ 36 household target (200 Mb/s) counts households only: its line says 5 left out.
 * - district 610 (Đắk Glei): one agent, 10 tests at 95 Mb/s → "insufficient data", n = 10 < 300;
 *   its commune is a xã, so the urban-organisation target leaves it out and says so.
 * - district 611 (Ngọc Hồi): one agent that synced 2 h ago (offline) and one never synced.
 * The district-610 agent's last sync is moved to 30 min ago (stale); the five others are online.
 */
const DISTRICT_608 = [
  { commune: '23281', down: 750, idle: 10 },
  { commune: '23284', down: 900, idle: 12 },
  { commune: '23287', down: 1050, idle: 14 },
  { commune: '23290', down: 1250, idle: 16 },
  { commune: '23293', down: 1500, idle: 18 }
]

interface Seeded { agency608: string, agentStale: string, agentOffline: string }

async function enrolled (c: TempCollector, over: { name: string, communeCode: string }): Promise<{ agencyId: string, agentId: string, token: string }> {
  const { agency, enrolment } = await addAgency(c.url, ADMIN, { ...over, scheme: '2025-03', category: 'organisation', connectionClass: 'fixed', isp: 'VNPT', planDownMbps: 1500, planUpMbps: 750 })
  const r = await enrol(c.url, enrolment.code, `pc-${over.communeCode}`)
  if (r.status !== 200) throw new Error(`enrol ${r.status} ${JSON.stringify(r.body)}`)
  return { agencyId: agency.id, agentId: r.body.agentId, token: r.body.token }
}

async function seed (c: TempCollector): Promise<Seeded> {
  const now = Date.now()
  const hourly = (n: number, down: number, idle: number): ReturnType<typeof speedRecord>[] =>
    Array.from({ length: n }, (_, k) => speedRecord({ at: new Date(now - (k + 1) * HOUR), downMbps: down, upMbps: down / 2, idleMs: idle }))
  let agency608 = ''
  for (const [i, line] of DISTRICT_608.entries()) {
    const a = await enrolled(c, { name: `Điểm bưu điện văn hoá ${i + 1} (TP. Kon Tum)`, communeCode: line.commune })
    if (i === 0) agency608 = a.agencyId
    const r = await sync(c.url, a.token, syncBody(a.agentId, hourly(64, line.down, line.idle)))
    expect(r.body.acks).toMatchObject({ accepted: 64, rejected: 0 })
    if (i === 0) {
      // One flagged test, the newest: kept out of the figures, shown on the agency page in words.
      const flagged = { ...speedRecord({ at: new Date(now - 10 * 60_000), downMbps: 400, upMbps: 200, idleMs: 10 }), flags: ['byte_capped', 'client_limited'] as Array<'byte_capped' | 'client_limited'>, confidence: 'low' as const }
      expect((await sync(c.url, a.token, syncBody(a.agentId, [flagged]))).body.acks).toMatchObject({ accepted: 1 })
    }
    if (i === 1) {
      // The one IPv6-only readiness result of the fleet: this line has NAT64/DNS64 (RFC 7050).
      const ready = ipv6OnlyRecord(now - 60_000, {
        dns64: { found: true, prefixes: [{ prefix: '64:ff9b::/96', length: 96 }], addresses: ['64:ff9b::c000:aa'], detail: 'ipv4only.arpa has AAAA 64:ff9b::c000:aa' },
        ipv6Connect: true,
        services: [],
        ready: true,
        basis: 'nat64',
        reason: 'IPv6 works and NAT64/DNS64 is present'
      })
      expect((await sync(c.url, a.token, syncBody(a.agentId, [ready]))).body.acks).toMatchObject({ accepted: 1 })
    }
  }
  const glei = await enrolled(c, { name: 'Điểm bưu điện văn hoá Đắk Glei', communeCode: '23341' })
  expect((await sync(c.url, glei.token, syncBody(glei.agentId, hourly(10, 95, 30)))).body.acks).toMatchObject({ accepted: 10 })
  const hoi = await enrolled(c, { name: 'Điểm bưu điện văn hoá Plei Kần', communeCode: '23377' })
  expect((await sync(c.url, hoi.token, syncBody(hoi.agentId, hourly(3, 80, 25)))).body.acks).toMatchObject({ accepted: 3 })
  await enrolled(c, { name: 'Điểm bưu điện văn hoá Đắk Ang', communeCode: '23380' }) // enrolled, never synced
  // Health states need the last sync in the past; only the clock of the heartbeat is moved.
  // No API moves a heartbeat back: a connection of the test's own to the collector's file does.
  const file = openCollectorFile(c, { readonly: false })
  try {
    const setSync = file.prepare('UPDATE agent SET last_sync_at = ? WHERE id = ?')
    setSync.run(now - 30 * 60_000, glei.agentId)
    setSync.run(now - 2 * HOUR, hoi.agentId)
  } finally {
    file.close()
  }
  return { agency608, agentStale: glei.agentId, agentOffline: hoi.agentId }
}

/** True when the collector has no such route (Fastify's own 404), as opposed to a report's 404. */
async function routeMissing (c: TempCollector, path: string): Promise<boolean> {
  const r = await call<{ code?: string }>(`${c.url}${path}`, {})
  return r.status === 404 && !(typeof r.body === 'object' && r.body !== null && typeof r.body.code === 'string' && r.body.code.startsWith('TOCDO_'))
}

async function open (page: Page, url: string): Promise<void> {
  await page.goto(url)
  await page.waitForSelector('#view[aria-busy="false"]')
}

describe('dashboard in headless Chromium', () => {
  let c: TempCollector
  let browser: TestBrowser
  let seeded: Seeded

  beforeAll(async () => {
    c = await startTempCollector({ adminToken: ADMIN, commitIntervalMs: 10, departmentName: DEPARTMENT })
    seeded = await seed(c)
    browser = await launchBrowser()
    mkdirSync(SHOTS, { recursive: true })
  })
  afterAll(async () => {
    await browser?.close()
    await c?.close()
  })

  it('is served by the collector and needs nothing from elsewhere', async () => {
    const root = await call(`${c.url}/`, {})
    expect(root.status).toBe(302)
    expect(root.headers.location).toBe('/dashboard/')
    const html = await call<string>(`${c.url}/dashboard/`, {})
    expect(html.status).toBe(200)
    expect(html.headers['content-security-policy']).toContain("default-src 'self'")
    expect(html.body).not.toMatch(/(src|href)="(https?:)?\/\//)
    const chart = await call<string>(`${c.url}/dashboard/vendor/chart.umd.js`, {})
    expect(chart.status).toBe(200)
    expect(chart.body).toContain('Chart')
    // Only the chart bundle is exposed from node_modules.
    expect((await call(`${c.url}/dashboard/vendor/package.json`, {})).status).toBe(404)
  })

  it('has the same keys in the Vietnamese and English dictionaries', async () => {
    // Browser modules without type declarations: loaded by URL, as the browser does.
    const load = async (lang: string): Promise<Record<string, string>> =>
      ((await import(pathToFileURL(`collector/dashboard/public/js/i18n/${lang}.js`).href)) as { default: Record<string, string> }).default
    const [vi, en] = [await load('vi'), await load('en')]
    expect(Object.keys(en).sort()).toEqual(Object.keys(vi).sort())
    expect(Object.keys(vi).length).toBeGreaterThan(200)
  })

  it('shows the seeded district figures, insufficient data with its n, and the target held against', async () => {
    const { page, problems } = await browser.newPage()
    await open(page, `${c.url}/dashboard/#/areas?v=2025-03&p=62`)
    expect(await routeMissing(c, '/api/v1/reports/areas?level=legacy_district&province=62'), 'route /api/v1/reports/areas').toBe(false)

    await expect(page.locator('#department').textContent()).resolves.toBe(DEPARTMENT)
    await expect(page.locator('#page-title').textContent()).resolves.toBe('Bảng theo địa bàn')
    const kt = page.locator('#area-table tr[data-area="608"]')
    await expect(page.locator('#area-table thead th').first().textContent()).resolves.toBe('Huyện cũ – vùng phân tích')
    await expect(kt.locator('th .area-name').textContent()).resolves.toBe('Kon Tum')
    await expect(kt.locator('.fig-downloadMean .v').textContent()).resolves.toBe('1.090')
    await expect(kt.locator('.fig-downloadMedian .v').textContent()).resolves.toBe('1.050')
    await expect(kt.locator('.fig-uploadMean .v').textContent()).resolves.toBe('545')
    await expect(kt.locator('.fig-uploadMedian .v').textContent()).resolves.toBe('525')
    await expect(kt.locator('.fig-idleLatencyMedianMs .v').textContent()).resolves.toBe('14')
    await expect(kt.locator('.fig-downloadMean .n').textContent()).resolves.toBe('n = 320')
    // The QĐ 36 urban-organisation target: 3 of 5 lines at ≥ 1,000 Mb/s, 90 % required.
    const qd36 = kt.locator('.target', { hasText: 'QĐ 36/QĐ-TTg' })
    await expect(qd36.locator('.target-figure').textContent()).resolves.toMatch(/60\s?%.*Chưa đạt/)
    await expect(qd36.getAttribute('class')).resolves.toContain('st-far')
    // Its household target counts none of these organisations, and says how many it left out.
    // (Its high-tech-zone target leaves them out too, on a line of its own.)
    await expect(kt.locator('.target-outside', { hasText: 'QĐ 36/QĐ-TTg' }).filter({ hasText: 'chỉ tiêu cho hộ gia đình' }).textContent()).resolves
      .toContain('Không tính 5 đường truyền ngoài đối tượng (chỉ tiêu cho hộ gia đình): 5 cơ quan, tổ chức.')
    await expect(page.locator('.footnotes').textContent()).resolves.toContain('QĐ 36/QĐ-TTg')

    const glei = page.locator('#area-table tr[data-area="610"]')
    await expect(glei.locator('.fig-downloadMean .v').textContent()).resolves.toBe('chưa đủ dữ liệu')
    await expect(glei.locator('.fig-downloadMean .n').textContent()).resolves.toBe('n = 10 < 300')
    await expect(glei.locator('.fig-downloadMedian .v').textContent()).resolves.toBe('chưa đủ dữ liệu')
    await expect(glei.locator('.targets-cell').textContent()).resolves.toContain('1 đơn vị ở xã')
    await page.screenshot({ path: `${SHOTS}/dashboard-areas.png`, fullPage: true })
    await page.screenshot({ path: `${SHOTS}/dashboard-areas-top.png` })

    // English switch: the heading and the cells change, and the choice survives a reload.
    await page.click('#lang-switch')
    await page.waitForSelector('#view[aria-busy="false"]')
    await expect(page.locator('#page-title').textContent()).resolves.toBe('Area table')
    await expect(page.locator('#area-table tr[data-area="610"] .fig-downloadMean .v').textContent()).resolves.toBe('insufficient data')
    await page.reload()
    await page.waitForSelector('#view[aria-busy="false"]')
    await expect(page.locator('#page-title').textContent()).resolves.toBe('Area table')
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en')
    await page.screenshot({ path: `${SHOTS}/dashboard-areas-en.png`, fullPage: true })
    await page.click('#lang-switch')
    await page.waitForSelector('#view[aria-busy="false"]')
    await expect(page.locator('#page-title').textContent()).resolves.toBe('Bảng theo địa bàn')

    expect(problems).toEqual([])
    expect(statSync(`${SHOTS}/dashboard-areas.png`).size).toBeGreaterThan(10_000)
    await page.close()
  })

  it('draws the figures the collector\'s registry lists (GET /api/v1/reports/meta), named and ordered as it says', async () => {
    interface MetaFigure { key: string, unit: string, views: string[], label: { vi: string, en: string } }
    const meta = await call<{ figures: MetaFigure[] }>(`${c.url}/api/v1/reports/meta`, {})
    expect(meta.status).toBe(200)
    const headline = meta.body.figures.filter((f) => f.views.includes('headline'))
    expect(headline.length).toBeGreaterThan(3)
    const cards = async (page: Page): Promise<string[][]> => await page.locator('.cards .card').evaluateAll((els) =>
      els.map((el) => [(el as HTMLElement).dataset.figure ?? '', el.querySelector('.card-label')?.textContent ?? '']))

    const { page, problems } = await browser.newPage()
    await open(page, `${c.url}/dashboard/#/overview?v=2025-03&p=62`)
    expect(await cards(page)).toEqual(headline.map((f) => [f.key, f.label.vi]))
    await page.click('#lang-switch')
    await page.waitForSelector('#view[aria-busy="false"]')
    expect(await cards(page)).toEqual(headline.map((f) => [f.key, f.label.en]))
    await page.click('#lang-switch')
    await page.waitForSelector('#view[aria-busy="false"]')

    const areas = await browser.newPage()
    await open(areas.page, `${c.url}/dashboard/#/areas?v=2025-03&p=62`)
    // The area table's figure columns: one heading and one cell per headline figure, in the meta's order.
    const heads = await areas.page.locator('#area-table thead th').allTextContents()
    const unit: Record<string, string> = { mbps: 'Mb/s', ms: 'ms' }
    expect(heads.filter((h) => headline.some((f) => h.startsWith(f.label.vi)))).toEqual(headline.map((f) => `${f.label.vi} (${unit[f.unit] as string})`))
    const cells = await areas.page.locator('#area-table tr[data-area="608"] td.fig').evaluateAll((els) => els.map((el) => el.className))
    expect(cells).toEqual(headline.map((f) => `fig fig-${f.key}`))
    expect(problems).toEqual([])
    expect(areas.problems).toEqual([])
    await page.close()
    await areas.page.close()
  })

  it('shows agent health: online, stale, offline and never synced', async () => {
    const { page, problems } = await browser.newPage()
    await open(page, `${c.url}/dashboard/#/health?v=2025-03&p=62`)
    const count = async (s: string): Promise<string | null> => await page.locator(`.card[data-state="${s}"] .big`).textContent()
    await expect(count('online')).resolves.toBe('5')
    await expect(count('stale')).resolves.toBe('1')
    await expect(count('offline')).resolves.toBe('1')
    await expect(count('never')).resolves.toBe('1')
    await expect(page.locator(`#health-table tr[data-agent="${seeded.agentStale.slice(0, 8)}"]`).getAttribute('data-state')).resolves.toBe('stale')
    await expect(page.locator(`#health-table tr[data-agent="${seeded.agentOffline.slice(0, 8)}"] .badge`).first().textContent()).resolves.toBe('Mất kết nối')
    await page.screenshot({ path: `${SHOTS}/dashboard-health.png`, fullPage: true })
    expect(problems).toEqual([])
    await page.close()
  })

  const PAGES: Array<{ name: string, hash: () => string, apis: () => string[], check?: (page: Page) => Promise<void> }> = [
    {
      name: 'overview',
      hash: () => '#/overview?v=2025-03&p=62',
      apis: () => ['/api/v1/reports/overview?province=62&version=2025-03'],
      // The official report of the province on screen, as Word and PDF, and the links work.
      check: async (page) => {
        const links = await page.locator('#official-report a').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href))
        expect(links).toHaveLength(2)
        for (const [i, format] of ['docx', 'pdf'].entries()) {
          expect(links[i]).toContain(`/api/v1/reports/official?province=62&version=2025-03&period=rolling12&format=${format}`)
          const r = await call<string>(links[i] as string, {})
          expect(r.status).toBe(200)
        }
      }
    },
    { name: 'overview-current', hash: () => '#/overview?v=2025-07&p=51', apis: () => ['/api/v1/reports/overview?province=51&version=2025-07'] },
    { name: 'charts', hash: () => '#/charts?v=2025-03&p=62', apis: () => ['/api/v1/reports/distribution?level=legacy_province&code=62', '/api/v1/reports/trend?level=legacy_province&code=62'] },
    {
      name: 'ipv6',
      hash: () => '#/ipv6?v=2025-03&p=62',
      apis: () => ['/api/v1/reports/ipv6?level=legacy_district&province=62'],
      // No agency has IPv6 results or service checks yet: readiness unknown, so no red 0 %.
      check: async (page) => {
        const row = page.locator('#ipv6-areas tbody tr').first()
        await expect(row.textContent()).resolves.toContain('chưa đủ dữ liệu')
        await expect(row.locator('.target.st-far').count()).resolves.toBe(0)
        // IPv6-only readiness: one of district 608's five agencies measured and ready, the four others
        // counted as not ready: 1/5 = 20 %.
        const district = page.locator('#ipv6-areas tbody tr', { hasText: 'Kon Tum' })
        await expect(district.locator('td.ipv6-only').textContent()).resolves.toMatch(/^20[\s\u00a0]?% \(1\/5 cơ quan; 1 đã đo\)$/)
        const agencies = page.locator('#ipv6-agencies tbody tr')
        await expect(agencies.filter({ hasText: 'Điểm bưu điện văn hoá 2 (TP. Kon Tum)' }).locator('td.ipv6-only').textContent()).resolves.toBe('Có (NAT64/DNS64)')
        await expect(agencies.filter({ hasText: 'Điểm bưu điện văn hoá 1 (TP. Kon Tum)' }).locator('td.ipv6-only').textContent()).resolves.toBe('Chưa đo')
      }
    },
    {
      name: 'agency',
      hash: () => `#/agency/${seeded.agency608}?v=2025-03&p=62`,
      apis: () => [`/api/v1/reports/agencies/${seeded.agency608}`],
      // Its one agent: 64 tests at 750 Mb/s against a 1,500 Mb/s plan, so QCVN 34 asks 0.8 × 1500 = 1200.
      check: async (page) => {
        await expect(page.locator('#page-title').textContent()).resolves.toBe('Điểm bưu điện văn hoá 1 (TP. Kon Tum)')
        await expect(page.locator('#health-table tbody tr').count()).resolves.toBe(1)
        await expect(page.locator('#qcvn34 tbody td').nth(1).textContent()).resolves.toBe('750')
        await expect(page.locator('#qcvn34 tbody td').nth(2).textContent()).resolves.toBe('1.200')
        await expect(page.locator('#recent-results tbody tr').count()).resolves.toBe(20)
        // Flags and the placement note in Vietnamese words, never codes or English.
        await expect(page.locator('#recent-results tbody tr').first().locator('td').last().textContent()).resolves
          .toBe('dừng do chạm giới hạn dung lượng; máy tính đo bị quá tải')
        await expect(page.locator('.facts').textContent()).resolves.toContain('Huyện cũ xác định theo xã cũ')
      }
    }
  ]

  for (const p of PAGES) {
    it(`loads the ${p.name} page without console errors, every report it reads served`, async () => {
      // A page whose report route is missing (Fastify's own 404) fails here, not just shows "not available".
      for (const api of p.apis()) expect(await routeMissing(c, api), `route ${api}`).toBe(false)
      const { page, problems } = await browser.newPage()
      await open(page, `${c.url}/dashboard/${p.hash()}`)
      await expect(page.locator('#page-title').count()).resolves.toBe(1)
      await expect(page.locator('[data-state="unavailable"]').count()).resolves.toBe(0)
      await expect(page.locator('[data-state="error"]').count()).resolves.toBe(0)
      if (p.check !== undefined) await p.check(page)
      // A Vietnamese page carries no English sentence and no raw code (flag, statistic, file name).
      const text = await page.locator('main, #view').first().innerText()
      expect(text.match(/\b(the|agencies|agency|placement|legacy|district|commune|target|insufficient)\b|\.md\b|\b[a-z0-9]+_[a-z0-9_]+\b/g) ?? []).toEqual([])
      expect(text).not.toMatch(/\b(the|agencies|agency|placement|legacy|district|commune|target|insufficient)\b|\.md\b|\b[a-z0-9]+_[a-z0-9_]+\b/)
      await page.screenshot({ path: `${SHOTS}/dashboard-${p.name}.png`, fullPage: true })
      expect(problems).toEqual([])
      await page.close()
    })
  }
})
