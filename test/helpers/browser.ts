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
  // Under scripts/suite-under-load.sh every process inherits libfaketime, which hangs
  // Chromium at start. The browser is started without it, and its pages are given the test
  // process's clock instead (Playwright's clock, which then runs on as timers fire).
  const fakedClock = (process.env.LD_PRELOAD ?? '').includes('faketime')
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    ...(fakedClock ? { env: withoutFaketime(process.env) } : {}),
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    viewport: { width: 1400, height: 1000 },
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh'
  })
  if (fakedClock) await context.clock.install({ time: Date.now() })
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

function withoutFaketime (env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) if (v !== undefined && k !== 'LD_PRELOAD' && !k.startsWith('FAKETIME')) out[k] = v
  return out
}
