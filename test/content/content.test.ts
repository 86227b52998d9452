import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BuildResult, buildSite } from '../../scripts/site-build'

const root = fileURLToPath(new URL('../..', import.meta.url))
let result: BuildResult

beforeAll(async () => {
  result = await buildSite(join(root, 'content'))
})

const htmlFiles = () => result.build.files.filter((f) => f.contentType.startsWith('text/html'))

describe('every page in content/', () => {
  it('has a unique title and a description search engines show whole', () => {
    const titles = result.pages.map((p) => p.title)
    expect(new Set(titles).size).toBe(titles.length)
    for (const p of result.pages) {
      expect(p.description.length, p.path).toBeGreaterThanOrEqual(50)
      expect(p.description.length, p.path).toBeLessThanOrEqual(160)
    }
  })

  it('links only to pages that exist, and to headings that exist', () => {
    const routes = new Set(result.build.files.map((f) => f.path))
    for (const file of [...htmlFiles(), result.build.notFound]) {
      const ids = new Set([...file.body.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]))
      for (const [, href] of file.body.matchAll(/\shref="([^"]+)"/g)) {
        if (!href || /^https?:/.test(href)) continue
        const [path, fragment] = href.split('#')
        if (path) expect(routes.has(path), `${file.path} links to ${href}`).toBe(true)
        if (fragment && !path) expect(ids.has(fragment), `${file.path} links to ${href}`).toBe(true)
      }
    }
  })

  it('fits in one TCP initial window (14 KB) compressed, with no render-blocking request', () => {
    for (const f of htmlFiles()) {
      expect(gzipSync(f.body).length, f.path).toBeLessThanOrEqual(14 * 1024)
      expect(brotliCompressSync(f.body).length, f.path).toBeLessThanOrEqual(14 * 1024)
      // No stylesheet to fetch before rendering, no script that is not deferred, no inline script.
      expect(f.body, f.path).not.toMatch(/<link[^>]+rel="stylesheet"/)
      expect(f.body, f.path).not.toMatch(/<script(?![^>]*\b(defer|async)\b)[^>]*\ssrc=/)
      expect(f.body, f.path).not.toMatch(/<script(?![^>]*(\ssrc=|application\/ld\+json))[^>]*>/)
    }
  })

  it('is reachable from the home page by following links', () => {
    const byPath = new Map(htmlFiles().map((f) => [f.path, f.body]))
    const seen = new Set<string>(['/'])
    const queue = ['/']
    for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
      for (const [, href] of (byPath.get(path) ?? '').matchAll(/\shref="(\/[^"#?]*)/g)) {
        if (href && byPath.has(href) && !seen.has(href)) {
          seen.add(href)
          queue.push(href)
        }
      }
    }
    expect([...seen].sort()).toEqual([...byPath.keys()].sort())
  })
})

describe('a content file that breaks a rule', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'content-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  const buildWith = async (file: string, text: string) => {
    const copy = await mkdtemp(join(dir, 'case-'))
    await cp(join(root, 'content'), copy, { recursive: true })
    await writeFile(join(copy, file), text)
    return buildSite(copy)
  }

  it('stops the build with the file and the missing field named', async () => {
    await expect(
      buildWith('back-pain/oops.md', '---\ndescription: x\npublished: 2026-01-01\n---\nBody\n'),
    ).rejects.toThrow('back-pain/oops.md: front matter "title" is required')
  })

  it('stops the build on a date that is not a date', async () => {
    await expect(
      buildWith('back-pain/oops.md', '---\ntitle: T\ndescription: d\npublished: someday\n---\nBody\n'),
    ).rejects.toThrow('back-pain/oops.md: front matter "published" must be a date (YYYY-MM-DD)')
  })

  it('stops the build on a reviewer without a review date, or a review date that is not a date', async () => {
    await expect(
      buildWith(
        'back-pain/oops.md',
        '---\ntitle: T\ndescription: d\npublished: 2026-01-01\nreviewed_by: Dr. A\n---\nBody\n',
      ),
    ).rejects.toThrow('back-pain/oops.md: front matter "reviewed_by" and "reviewed" go together')
    await expect(
      buildWith(
        'back-pain/oops.md',
        '---\ntitle: T\ndescription: d\npublished: 2026-01-01\nreviewed_by: Dr. A\nreviewed: soon\n---\nBody\n',
      ),
    ).rejects.toThrow('back-pain/oops.md: front matter "reviewed" must be a date (YYYY-MM-DD)')
  })

  it('does not let raw HTML in Markdown reach the page', async () => {
    const { build } = await buildWith(
      'back-pain/raw.md',
      '---\ntitle: Raw\ndescription: d\npublished: 2026-01-01\n---\n<script>alert(1)</script>\n',
    )
    const page = build.files.find((f) => f.path === '/back-pain/raw')
    expect(page?.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(page?.body).not.toContain('<script>alert(1)')
  })
})

describe('a site with a Turnstile site key', () => {
  it('shows the widget in every signup form and loads its script without blocking', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'content-'))
    try {
      await cp(join(root, 'content'), dir, { recursive: true })
      const settings = JSON.parse(await readFile(join(dir, 'site.json'), 'utf8'))
      await writeFile(
        join(dir, 'site.json'),
        JSON.stringify({ ...settings, turnstileSiteKey: '1x00000000000000000000AA' }),
      )
      const { build } = await buildSite(dir)
      for (const path of ['/cure-back-pain-program', '/back-pain/back-exercises/spine-exercises']) {
        const body = build.files.find((f) => f.path === path)?.body ?? ''
        expect(body, path).toContain('<div class="cf-turnstile" data-sitekey="1x00000000000000000000AA">')
        expect(body, path).toMatch(
          /<script src="https:\/\/challenges.cloudflare.com\/turnstile\/v0\/api.js" async="" defer="">/,
        )
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
