import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import AxeBuilder from '@axe-core/playwright'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prepareState, type RunningWorker, root, startWorker } from '../../bench/lib'

const PORT = Number(process.env.E2E_PORT ?? 8795)
const BASE = `http://127.0.0.1:${PORT}`
const ADMIN = 'e2e-admin-token-not-a-secret-0123456789'
const ARTEFACTS = join(root, 'test-results')
const ESSAY = '/back-pain/back-exercises/spine-exercises'
// A partner's site on another origin, which the published settings list in signupOrigins.
const PARTNER_PORT = PORT + 1
const PARTNER = `http://127.0.0.1:${PARTNER_PORT}`
let worker: RunningWorker
let browser: Browser
let partner: Server

beforeAll(async () => {
  await mkdir(ARTEFACTS, { recursive: true })
  const state = join(root, 'tmp/e2e-state')
  // content/ as it is, but with the partner's origin allowed to frame the signup form.
  const content = join(root, 'tmp/e2e-content')
  await rm(content, { recursive: true, force: true })
  await cp(join(root, 'content'), content, { recursive: true })
  const site = JSON.parse(await readFile(join(content, 'site.json'), 'utf8')) as Record<string, unknown>
  await writeFile(join(content, 'site.json'), JSON.stringify({ ...site, signupOrigins: [PARTNER] }))
  await prepareState(state, undefined, content)
  partner = createServer((_, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
    res.end(
      `<!doctype html><html lang="en"><title>Partner</title><main><h1>A partner's post</h1><script src="${BASE}/embed.js" data-source="partner" async></script></main></html>`,
    )
  }).listen(PARTNER_PORT, '127.0.0.1')
  worker = await startWorker(PORT, state, { ADMIN_TOKEN: ADMIN }, ['--test-scheduled'])
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
})

afterAll(async () => {
  partner?.close()
  await browser?.close()
  worker?.stop()
})

type OutboxMail = { id: string; to: string; subject: string; text: string }
async function mailsTo(to: string, count: number): Promise<OutboxMail[]> {
  for (let i = 0; i < 100; i++) {
    const { emails } = (await (await fetch(`${BASE}/dev/outbox.json`)).json()) as { emails: OutboxMail[] }
    const mine = emails.filter((e) => e.to === to)
    if (mine.length >= count) return mine
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`fewer than ${count} emails to ${to}`)
}
const linkIn = (mail: OutboxMail, kind: string) =>
  new RegExp(`https?://\\S+/${kind}/[\\w.-]+`).exec(mail.text)?.[0] ?? ''

/** axe-core's verdict on a page: zero violations expected. */
async function accessibilityProblems(page: Page, options: { frames?: boolean; email?: boolean } = {}) {
  let axe = new AxeBuilder({ page })
  // Frames sandboxed with no scripts cannot host axe: audit the page alone, the old way (one axe.run).
  if (options.frames === false) axe = axe.setLegacyMode(true).options({ iframes: false })
  // An email is shown inside the mail client's own page, whose landmarks hold it; the rules that
  // ask a page for its own main landmark and regions do not apply. Every WCAG rule still does.
  if (options.email) axe = axe.disableRules(['landmark-one-main', 'region'])
  const { violations } = await axe.analyze()
  return violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}

describe('a reader, a subscriber and a marketer, in a real browser', () => {
  it('reads the essay from the home page, by the breadcrumb, with no accessibility violation', async () => {
    const context = await browser.newContext({ bypassCSP: true })
    const page = await context.newPage()
    await page.goto(`${BASE}/`)
    expect(await accessibilityProblems(page)).toEqual([])
    await page.getByRole('link', { name: 'Back Pain', exact: true }).first().click()
    expect(await accessibilityProblems(page)).toEqual([])
    await page.getByRole('link', { name: 'Back Exercises', exact: true }).first().click()
    expect(await accessibilityProblems(page)).toEqual([])
    await page.getByRole('link', { name: 'Spine Exercises and Back Pain' }).click()
    await expect.poll(() => page.url()).toBe(`${BASE}${ESSAY}`)
    expect(await page.locator('h1').textContent()).toBe('Spine Exercises and Back Pain')
    expect(await page.locator('nav.crumbs li').allTextContents()).toEqual([
      'Back Pain',
      'Back Exercises',
      'Spine Exercises',
    ])
    expect(await accessibilityProblems(page)).toEqual([])
    await page.getByRole('link', { name: 'cure back pain program' }).click()
    expect(await page.locator('h1').textContent()).toBe('The cure back pain program')
    expect(await accessibilityProblems(page)).toEqual([])
    await page.goto(`${BASE}/no-such-page`)
    expect(await page.locator('h1').textContent()).toBe('Page not found')
    expect(await accessibilityProblems(page)).toEqual([])
    await context.close()
  })

  it("decodes the essay's share image (1200x630) and the site's icons in the browser", async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(`${BASE}${ESSAY}`)
    // The tags name the site's public origin; here the same paths are served locally.
    const local = (url: string | null) => `${BASE}${new URL(url ?? '', BASE).pathname}`
    const shareImage = local(await page.locator('meta[property="og:image"]').getAttribute('content'))
    const touchIcon = local(await page.locator('link[rel="apple-touch-icon"]').getAttribute('href'))
    const favicon = local(await page.locator('link[rel="icon"][href$=".ico"]').getAttribute('href'))
    // Each opened on its own, as the browser shows an image: its status, and the size it decoded.
    const decoded = async (url: string) => {
      expect((await page.goto(url))?.status(), url).toBe(200)
      return page.locator('img').evaluate((img) => {
        const { naturalWidth, naturalHeight } = img as unknown as { naturalWidth: number; naturalHeight: number }
        return [naturalWidth, naturalHeight]
      })
    }
    expect(await decoded(shareImage)).toEqual([1200, 630])
    expect(await decoded(touchIcon)).toEqual([180, 180])
    const [width] = await decoded(favicon)
    expect([16, 32, 48]).toContain(width)
    await context.close()
  })

  it('takes screenshots of the essay on a phone and a desktop, light and dark', async () => {
    for (const [name, viewport] of [
      ['phone', { width: 390, height: 844 }],
      ['desktop', { width: 1280, height: 900 }],
    ] as const)
      for (const colorScheme of ['light', 'dark'] as const) {
        const context = await browser.newContext({ viewport, colorScheme })
        const page = await context.newPage()
        await page.goto(`${BASE}${ESSAY}`)
        await page.screenshot({ path: join(ARTEFACTS, `essay-${name}-${colorScheme}.png`), fullPage: false })
        await context.close()
      }
  })

  it('signs up without JavaScript, confirms, gets lesson 1 from the cron, and unsubscribes from it', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false })
    const audited: string[] = []
    const page = await context.newPage()
    await page.goto(`${BASE}/cure-back-pain-program`)
    await page.getByLabel('First name').fill('Nora')
    await page.getByLabel('Email address').fill('nora@example.com')
    await page.locator('form.signup input[name="consent"]').check()
    await page.getByLabel('Also email me new essays', { exact: false }).check()
    await page.getByRole('button', { name: 'Send me lesson 1' }).click()
    expect(await page.locator('h1').textContent()).toBe('Check your inbox')
    const [confirmation] = await mailsTo('nora@example.com', 1)
    await page.goto(linkIn(confirmation as OutboxMail, 'confirm'))
    audited.push(page.url())
    // Buttons a thumb can press: at least 44 px tall (WCAG 2.5.5), on every page behind a link in an email.
    const tall = async () =>
      page.locator('main button').evaluateAll((buttons) => buttons.map((b) => b.getBoundingClientRect().height))
    for (const h of await tall()) expect(h).toBeGreaterThanOrEqual(44)
    await page.getByRole('button', { name: 'Yes, start the course' }).click()
    expect(await page.locator('h1').textContent()).toBe('You are in')
    await page.getByRole('link', { name: 'preferences page' }).click()
    expect(await page.locator('h1').textContent()).toBe('Your preferences')
    expect((await tall()).length).toBeGreaterThanOrEqual(3)
    for (const h of await tall()) expect(h).toBeGreaterThanOrEqual(44)
    audited.push(page.url())
    // The cron, an hour from now.
    await fetch(
      `${BASE}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent('*/5 * * * *')}&time=${Date.now() + 3_600_000}`,
    )
    const lesson = (await mailsTo('nora@example.com', 2)).find((m) => m.subject.startsWith('Lesson 1 of 5'))
    expect(lesson?.text).toContain('Hi Nora,')
    await page.goto(linkIn(lesson as OutboxMail, 'unsubscribe'))
    audited.push(page.url())
    for (const h of await tall()) expect(h).toBeGreaterThanOrEqual(44)
    await page.getByRole('button', { name: 'Unsubscribe me' }).click()
    expect(await page.locator('h1').textContent()).toBe('You are unsubscribed')
    // A lesson's link leaves the course only: the new essays she asked for go on.
    expect(await page.locator('main').textContent()).toContain('Anything else you asked for goes on')
    await context.close()
    // axe runs in the page, so the pages this reader saw are audited again with JavaScript on.
    const auditor = await browser.newContext({ bypassCSP: true })
    const check = await auditor.newPage()
    for (const url of audited) {
      await check.goto(url)
      expect(await accessibilityProblems(check), url).toEqual([])
    }
    // And the two emails, as a mail client would show them.
    for (const mail of [confirmation, lesson] as OutboxMail[]) {
      await check.goto(`${BASE}/dev/outbox/${mail.id}/html`)
      expect(await accessibilityProblems(check, { email: true }), mail.subject).toEqual([])
    }
    await auditor.close()
  })

  it('signs up with JavaScript on, the time zone filled in by the browser', async () => {
    const context = await browser.newContext({ timezoneId: 'Pacific/Auckland' })
    const page = await context.newPage()
    await page.goto(`${BASE}${ESSAY}?utm_source=newsletter`)
    await page.locator('#signup-essay-email').fill('kiri@example.com')
    await page.locator('#signup-essay-consent').check()
    const form = page.locator('form.signup', { has: page.locator('#signup-essay-email') })
    expect(await form.locator('input[name="timezone"]').inputValue()).toBe('Pacific/Auckland')
    expect(await form.locator('input[name="utm_source"]').inputValue()).toBe('newsletter')
    await form.locator('button[type="submit"]').click()
    expect(await page.locator('h1').textContent()).toBe('Check your inbox')
    await mailsTo('kiri@example.com', 1)
    await context.close()
  })

  it('lets the marketer sign in and see the signups in the chart and the list', async () => {
    const context = await browser.newContext({ bypassCSP: true })
    const page = await context.newPage()
    await page.goto(`${BASE}/admin`)
    await page.getByLabel('Admin token').fill(ADMIN)
    await page.getByRole('button', { name: 'Sign in' }).click()
    expect(await page.locator('h1').textContent()).toBe('Overview')
    expect(await page.locator('figcaption').textContent()).toContain('2 in all')
    expect(await accessibilityProblems(page)).toEqual([])
    await page.getByRole('link', { name: 'Subscribers' }).click()
    expect(await page.locator('tbody td:first-child').allTextContents()).toEqual(
      expect.arrayContaining(['nora@example.com', 'kiri@example.com']),
    )
    expect(await accessibilityProblems(page)).toEqual([])
    await page.screenshot({ path: join(ARTEFACTS, 'admin-subscribers.png') })
    // The lessons page frames every compiled lesson in a sandbox where no script runs, axe's
    // included, so the page is audited without its frames and each lesson is audited on its own.
    await page.getByRole('link', { name: 'Lessons' }).click()
    expect(await page.locator('h1').textContent()).toBe('Lessons')
    const lessons = await page.locator('iframe').evaluateAll((frames) => frames.map((f) => f.getAttribute('src')))
    expect(lessons).toHaveLength(5)
    expect(await accessibilityProblems(page, { frames: false })).toEqual([])
    const lesson = await context.newPage()
    for (const src of lessons) {
      await lesson.goto(`${BASE}${src}`)
      expect({ src, problems: await accessibilityProblems(lesson, { email: true }) }).toEqual({ src, problems: [] })
    }
    await lesson.close()
    // The newsletter: the letter is a draft; its page frames the email (audited on its own), and
    // "Now" sends it to Nora, who left the course but kept the new essays.
    await page.getByRole('link', { name: 'Broadcasts' }).click()
    expect(await page.locator('h1').textContent()).toBe('Broadcasts')
    expect(await accessibilityProblems(page)).toEqual([])
    await page.getByRole('link', { name: 'What the new essays will cover' }).click()
    expect(await accessibilityProblems(page, { frames: false })).toEqual([])
    const preview = await context.newPage()
    await preview.goto(`${BASE}${await page.locator('iframe').getAttribute('src')}`)
    expect(await accessibilityProblems(preview, { email: true })).toEqual([])
    await preview.close()
    await page.getByLabel('Now').check()
    await page.getByRole('button', { name: 'Schedule' }).click()
    const letter = (await mailsTo('nora@example.com', 3)).find((m) => m.subject === 'What the new essays will cover')
    expect(letter?.text).toContain('Hi Nora,')
    await page.reload()
    expect(await page.locator('main').textContent()).toContain('1 recipient · 1 sent')
    expect(await accessibilityProblems(page, { frames: false })).toEqual([])
    await page.screenshot({ path: join(ARTEFACTS, 'admin-broadcast.png'), fullPage: true })
    await page.goto(`${BASE}/dev/outbox/${(letter as OutboxMail).id}/html`)
    expect(await accessibilityProblems(page, { email: true })).toEqual([])
    await page.goto(`${BASE}/admin/dead-letters`)
    expect(await page.locator('h1').textContent()).toBe('Dead letters')
    expect(await accessibilityProblems(page)).toEqual([])

    // The overview at a phone's width and a desktop's: readable, and no violation at either.
    for (const width of [412, 1280]) {
      await page.setViewportSize({ width, height: 900 })
      await page.goto(`${BASE}/admin`)
      expect(await accessibilityProblems(page), `overview at ${width} px`).toEqual([])
      await page.screenshot({ path: join(ARTEFACTS, `admin-overview-${width}.png`), fullPage: true })
    }

    // The subscribers: a CSV of the list from its button, then one subscriber's page, and erasure.
    await page.goto(`${BASE}/admin/subscribers`)
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download these as CSV' }).click(),
    ])
    const csv = await readFile((await download.path()) as string, 'utf8')
    expect(csv.split('\r\n')[0]).toMatch(/^id,email,/)
    expect(csv).toContain('kiri@example.com')
    await page.getByRole('link', { name: 'kiri@example.com' }).click()
    expect(await page.locator('h1').textContent()).toBe('kiri@example.com')
    expect(await accessibilityProblems(page)).toEqual([])
    await page.getByRole('link', { name: 'Erase this person…' }).click()
    expect(await accessibilityProblems(page)).toEqual([])
    await page.getByLabel('Type the address to confirm').fill('kiri@example.com')
    await page.getByRole('button', { name: 'Erase for good' }).click()
    expect(await page.locator('main').textContent()).toContain('Erased: nothing about that address remains.')
    expect(await page.locator('tbody td:first-child').allTextContents()).not.toContain('kiri@example.com')

    // The import page: the dry run first, then the import.
    await page.getByRole('link', { name: 'Import' }).click()
    expect(await accessibilityProblems(page)).toEqual([])
    await page.setInputFiles('input[type=file]', {
      name: 'list.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        'email,consent_at,consent_text,status\r\nimported@example.com,2026-11-01T00:00:00Z,Agreed at a workshop,completed\r\nnot-an-address,2026-11-01T00:00:00Z,x,active\r\n',
      ),
    })
    await page.getByRole('button', { name: /check/i }).click()
    expect(await page.locator('main').textContent()).toContain('Nothing has been imported yet')
    expect(await accessibilityProblems(page)).toEqual([])
    await page.getByRole('button', { name: 'Import 1 subscriber' }).click()
    expect(await accessibilityProblems(page)).toEqual([])
    await page.goto(`${BASE}/admin/subscribers?q=imported`)
    expect(await page.locator('tbody td:first-child').allTextContents()).toEqual(['imported@example.com'])
    await context.close()
  })

  it('lets an integrator read the API reference at /api/docs, generated from the routes, with its CSP', async () => {
    // No bypassCSP: the page must work under its own policy (scripts from our origin only).
    const context = await browser.newContext()
    const page = await context.newPage()
    const blocked: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') blocked.push(m.text())
    })
    await page.goto(`${BASE}/api/docs`)
    await page.locator('.opblock').first().waitFor()
    expect(await page.locator('.info .title').textContent()).toContain('signups, course and admin API')
    const operations = await page.locator('.opblock-summary-path').allTextContents()
    expect(operations).toEqual(expect.arrayContaining(['/api/subscribe', '/api/admin/subscribers']))
    expect(blocked).toEqual([])
    await page.screenshot({ path: join(ARTEFACTS, 'api-docs.png') })
    await context.close()
  })

  it("fits the embedded form's frame to its content on a partner's page, and opens its links outside the frame", async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(PARTNER)
    const frameElement = page.locator('iframe')
    const frame = page.frameLocator('iframe')
    await frame.locator('form.signup').waitFor()
    const fitted = async () =>
      frameElement.evaluate((f) => ({
        style: f.style.height,
      }))
    // Cross-origin: the host cannot read the frame's document, so the height can only have come from its message.
    await expect.poll(async () => (await fitted()).style).not.toBe('40rem')
    const formHeight = Number.parseFloat((await fitted()).style)
    expect(formHeight).toBeGreaterThan(200)
    await frame.locator('input[name="email"]').fill('partner-reader@example.com')
    await frame.locator('input[name="consent"]').check()
    await frame.locator('button[type="submit"]').click()
    await expect.poll(async () => frame.locator('h1').textContent()).toBe('Check your inbox')
    await expect.poll(async () => Number.parseFloat((await fitted()).style)).toBeLessThan(formHeight)
    await page.screenshot({ path: join(ARTEFACTS, 'embed-on-partner.png') })
    await frame.getByRole('link', { name: 'Back to the essays' }).click()
    await expect.poll(() => page.url()).toBe(`${BASE}/`)
    expect(await page.locator('h1').first().textContent()).not.toBe("A partner's post")
    await context.close()
  })
})
