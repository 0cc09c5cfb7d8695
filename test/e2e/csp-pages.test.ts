import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTempCollector, type TempCollector } from '../helpers/temp-collector.js'
import { launchBrowser, type TestBrowser } from '../helpers/browser.js'

/**
 * Issue 11 in a real browser: Swagger UI at /docs still works under its Content-Security-Policy
 * (a blocked script or style shows up as a console error), and the dashboard survives any URL
 * hash, malformed % escapes included.
 */
describe('pages under their security headers, in headless Chromium', () => {
  let c: TempCollector
  let browser: TestBrowser
  beforeAll(async () => {
    c = await startTempCollector({ adminToken: 'csp-admin-token-0123456789abcdef' })
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await c?.close()
  })

  it('/docs renders the API description with no CSP violation', async () => {
    const { page, problems } = await browser.newPage()
    const res = await page.goto(`${c.url}/docs`)
    expect(res?.headers()['content-security-policy']).toContain("frame-ancestors 'none'")
    await page.waitForSelector('.swagger-ui .opblock-tag', { timeout: 30_000 })
    expect(await page.locator('.swagger-ui .opblock').count()).toBeGreaterThan(10)
    await expect(page.locator('.swagger-ui .title').first().textContent()).resolves.toContain('tocdo collector API')
    expect(problems).toEqual([])
    await page.close()
  })

  for (const hash of ['#/agency/%E0%A4%A', '#/%', '#/areas?v=%ZZ&p=%', '#/health/%%%?period=%E0', '#/agency/%25%']) {
    it(`the dashboard renders a page for the hash ${hash}`, async () => {
      const { page, problems } = await browser.newPage()
      await page.goto(`${c.url}/dashboard/${hash}`)
      await page.waitForSelector('#view[aria-busy="false"]', { timeout: 30_000 })
      await expect(page.locator('#page-title').count()).resolves.toBe(1)
      expect(problems.filter((p) => p.kind === 'pageerror')).toEqual([])
      await page.close()
    })
  }
})
