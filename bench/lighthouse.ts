/**
 * Lighthouse (mobile, its default) on the essay and the other kinds of page a reader meets (home,
 * a section, the program page, a search), in Debian's chromium, against the local Worker. The site is built with its base URL set to the local address, so the canonical link
 * points where the page is served, as it does in production.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as chromeLauncher from 'chrome-launcher'
import lighthouse from 'lighthouse'
import { record } from './figures'
import { ESSAY, prepareState, root, startWorker } from './lib'

/** The pages audited: the essay first (its scores are the bench table's), then one of each other kind. */
export const AUDITED = [ESSAY, '/', '/back-pain', '/cure-back-pain-program', '/search?q=spine+exercises']

/** The four category scores of each page, 0–100. */
export async function lighthouseScores(port: number): Promise<Record<string, Record<string, number>>> {
  const content = await mkdtemp(join(tmpdir(), 'lh-content-'))
  await cp(join(root, 'content'), content, { recursive: true })
  const site = JSON.parse(await readFile(join(content, 'site.json'), 'utf8'))
  await writeFile(join(content, 'site.json'), JSON.stringify({ ...site, baseUrl: `http://127.0.0.1:${port}` }))
  const state = join(root, 'tmp/lighthouse-state')
  await prepareState(state, undefined, content)
  const worker = await startWorker(port, state, {})
  const chrome = await chromeLauncher.launch({
    chromePath: '/usr/bin/chromium',
    chromeFlags: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
  try {
    const scores: Record<string, Record<string, number>> = {}
    for (const path of AUDITED) {
      const result = await lighthouse(`http://127.0.0.1:${port}${path}`, {
        port: chrome.port,
        output: 'json',
        logLevel: 'error',
        onlyCategories: ['performance', 'accessibility', 'best-practices', 'seo'],
      })
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
