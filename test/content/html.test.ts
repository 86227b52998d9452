import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { HtmlValidate } from 'html-validate'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildSite } from '../../scripts/site-build'
import type { SiteBuild } from '../../src/site/publish'

const root = fileURLToPath(new URL('../..', import.meta.url))
let build: SiteBuild

beforeAll(async () => {
  build = (await buildSite(join(root, 'content'))).build
})

/** The messages html-validate has about a document, one line each. */
async function problems(validator: HtmlValidate, html: string): Promise<string[]> {
  const report = await validator.validateString(html)
  return report.results.flatMap((r) => r.messages.map((m) => `${m.line}:${m.column} ${m.ruleId}: ${m.message}`))
}

describe('every built page', () => {
  // Validity, accessibility and document rules; the two style rules are left to the formatter
  // (hono/jsx writes `<meta/>` and `<!doctype html>`), and SRI is for scripts from other origins.
  const validator = new HtmlValidate({
    extends: ['html-validate:standard', 'html-validate:a11y', 'html-validate:document'],
    rules: { 'void-style': 'off', 'doctype-style': 'off', 'require-sri': ['error', { target: 'crossorigin' }] },
  })

  it('is valid HTML by html-validate', async () => {
    for (const f of [...build.files.filter((f) => f.contentType.startsWith('text/html')), build.notFound])
      expect(await problems(validator, f.body), f.path).toEqual([])
  })

  it('is valid with a reviewer and footnoted references too (the second-essay fixture)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'reviewed-'))
    try {
      await cp(join(root, 'content'), dir, { recursive: true })
      await cp(join(root, 'test/fixtures/second-essay'), dir, { recursive: true })
      const second = (await buildSite(dir)).build
      const page = second.files.find((f) => f.path === '/back-pain/posture/sitting-all-day')
      expect(page?.body).toContain('footnote')
      expect(await problems(validator, page?.body ?? ''), page?.path).toEqual([])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('every compiled email and lesson', () => {
  // Email HTML is table layout with inline styles by design (MJML's output): checked as documents.
  const validator = new HtmlValidate({ extends: ['html-validate:document'] })

  it('is a valid HTML document by html-validate', async () => {
    const emails = [
      ...Object.entries(build.emails),
      ...Object.values(build.courses).flatMap((c) => c.lessons.map((l) => [l.subject, l] as const)),
    ]
    for (const [name, e] of emails) expect(await problems(validator, e.html), name).toEqual([])
  })
})
