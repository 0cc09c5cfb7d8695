import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

/** Debian's chromium package; `.ci/run` installs it with `apt-get install -y chromium`. */
export const CHROMIUM = process.env.TOCDO_CHROMIUM ?? '/usr/bin/chromium'

export interface PageProblem { kind: 'console' | 'pageerror' | 'requestfailed' | 'http', text: string, url: string }

export interface TestBrowser {
  context: BrowserContext
  /** A new page whose console errors, uncaught exceptions and failed requests land in `problems`. */
  newPage: () => Promise<{ page: Page, problems: PageProblem[] }>
  close: () => Promise<void>
}

/**
 * Headless Chromium with a fresh profile and nothing that phones home, so a test sees only
 * the requests the page itself makes (and fails if one goes anywhere but the collector).
 */
export async function launchBrowser (): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or set TOCDO_CHROMIUM`)
  const profile = mkdtempSync(join(tmpdir(), 'tocdo-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    viewport: { width: 1400, height: 1000 },
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh'
  })
  return {
    context,
    newPage: async () => {
      const page = await context.newPage()
      const problems: PageProblem[] = []
      page.on('console', (msg) => {
        if (msg.type() === 'error' || msg.type() === 'warning') problems.push({ kind: 'console', text: `${msg.type()}: ${msg.text()}`, url: msg.location().url })
      })
      page.on('pageerror', (err) => { problems.push({ kind: 'pageerror', text: err.message, url: page.url() }) })
      page.on('requestfailed', (req) => { problems.push({ kind: 'requestfailed', text: req.failure()?.errorText ?? 'failed', url: req.url() }) })
      page.on('response', (res) => { if (res.status() >= 400) problems.push({ kind: 'http', text: String(res.status()), url: res.url() }) })
      return { page, problems }
    },
    close: async () => {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    }
  }
}
