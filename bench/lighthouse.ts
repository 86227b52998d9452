/**
 * Lighthouse (mobile, its default) on the essay and the other kinds of page a reader meets (home,
 * a section, the program page, a search, a subscriber's preferences page), in Debian's chromium,
 * against the local Worker. The site is built with its base URL set to the local address, so the
 * canonical link points where the page is served, as it does in production.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as chromeLauncher from 'chrome-launcher'
import lighthouse from 'lighthouse'
import { record } from './figures'
import { ESSAY, prepareState, root, startWorker } from './lib'

/** A subscriber's own preferences page: its path names a signed token, made at run time. */
const PREFERENCES = '/preferences'

/**
 * The pages audited: the essay first (its scores are the bench table's), then one of each other
 * kind. The search and preferences pages are kept out of search engines by design (noindex).
 */
export const AUDITED = [ESSAY, '/', '/back-pain', '/cure-back-pain-program', '/search?q=spine+exercises', PREFERENCES]

/**
 * The preferences page of a new subscriber, reached as a reader reaches it: sign up, follow the
 * confirm link of the email (the local outbox), confirm, and take the link the confirmed page gives.
 */
async function preferencesPath(base: string, consent: string): Promise<string> {
  const email = `lighthouse-${Date.now()}@example.com`
  const signup = await fetch(`${base}/api/subscribe`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, name: 'Lee', consent, source: 'bench' }),
  })
  if (signup.status !== 202) throw new Error(`the bench signup answered ${signup.status}: ${await signup.text()}`)
  for (let i = 0; i < 100; i++) {
    const { emails } = (await (await fetch(`${base}/dev/outbox.json`)).json()) as {
      emails: { to: string; text: string }[]
    }
    const confirm = /\/confirm\/[\w.-]+/.exec(emails.find((e) => e.to === email)?.text ?? '')?.[0]
    if (confirm) {
      const page = await (await fetch(`${base}${confirm}`, { method: 'POST' })).text()
      const link = /href="(\/preferences\/[\w.-]+)"/.exec(page)?.[1]
      if (!link) throw new Error(`the confirmed page links to no preferences page:\n${page}`)
      return link
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error('no confirmation email reached the outbox within 10 s')
}

/** The four category scores of each page, 0–100. */
export async function lighthouseScores(port: number): Promise<Record<string, Record<string, number>>> {
  const content = await mkdtemp(join(tmpdir(), 'lh-content-'))
  await cp(join(root, 'content'), content, { recursive: true })
  const site = JSON.parse(await readFile(join(content, 'site.json'), 'utf8'))
  await writeFile(join(content, 'site.json'), JSON.stringify({ ...site, baseUrl: `http://127.0.0.1:${port}` }))
  const state = join(root, 'tmp/lighthouse-state')
  const build = await prepareState(state, undefined, content)
  const worker = await startWorker(port, state, {})
  const chrome = await chromeLauncher.launch({
    chromePath: '/usr/bin/chromium',
    chromeFlags: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
  try {
    const base = `http://127.0.0.1:${port}`
    const consent = build.settings.courses['cure-back-pain-program']?.consent ?? ''
    const scores: Record<string, Record<string, number>> = {}
    for (const path of AUDITED) {
      const url = path === PREFERENCES ? `${base}${await preferencesPath(base, consent)}` : `${base}${path}`
      const audit = () =>
        lighthouse(url, {
          port: chrome.port,
          output: 'json',
          logLevel: 'error',
          onlyCategories: ['performance', 'accessibility', 'best-practices', 'seo'],
        })
      // A run whose trace Lighthouse could not read (NO_NAVSTART, now and then on a busy machine)
      // scores 0 for a fault of its own, not of the page: such a run is tried again, twice at most.
      let result = await audit()
      for (let retry = 0; retry < 2 && result?.lhr.runtimeError; retry++) {
        console.error(`${path}: Lighthouse ${result.lhr.runtimeError.code}, run again`)
        result = await audit()
      }
      const categories = result?.lhr.categories ?? {}
      scores[path] = Object.fromEntries(
        Object.entries(categories).map(([k, c]) => [k, Math.round((c.score ?? 0) * 100)]),
      )
    }
    return scores
  } finally {
    chrome.kill()
    worker.stop()
    await rm(content, { recursive: true, force: true })
  }
}

if (process.argv[1]?.endsWith('lighthouse.ts')) {
  const scores = await lighthouseScores(Number(process.env.BENCH_PORT ?? 8788) + 3)
  console.table(scores)
  await record('lighthouse', scores[ESSAY] ?? {})
  await record('lighthousePages', Object.fromEntries(Object.entries(scores).filter(([path]) => path !== ESSAY)))
}
