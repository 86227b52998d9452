import { env, exports } from 'cloudflare:workers'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import seed from './fixtures/seed-essay.txt?raw'
import { attrsOf, fold, get, publish, textsOf } from './helpers'

const ESSAY = '/back-pain/back-exercises/spine-exercises'
const HEADINGS = [
  'What are Spine Exercises?',
  'Spine Exercises Surprises',
  'Spine Exercises Theories',
  'Spine Exercise Summation',
]
const seedLines = seed.split(/\r?\n/).map(fold).filter(Boolean)
// Title, kicker, headings, the breadcrumb line and the call to action are not body paragraphs.
const notParagraphs = new Set([
  'Spine Exercises and Back Pain',
  'Spine Exercises',
  ...HEADINGS,
  'Back Pain > Back Exercises > Spine Exercises',
  'cure back pain program',
])
const seedParagraphs = seedLines.filter((l) => !notParagraphs.has(l))

beforeAll(async () => {
  await publish(inject('siteBuild'))
})

describe('a reader opening the essay', () => {
  it('reads every paragraph of the essay, in order, under its title and four headings', async () => {
    const res = await get(ESSAY)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const html = await res.text()
    expect(seedParagraphs.length).toBe(24)
    expect(await textsOf(html, 'article .prose p')).toEqual(seedParagraphs)
    expect(await textsOf(html, 'h1')).toEqual(['Spine Exercises and Back Pain'])
    expect(await textsOf(html, 'article .prose h2')).toEqual(HEADINGS)
  })

  it('sees the breadcrumb Back Pain > Back Exercises > Spine Exercises, with links up the tree', async () => {
    const html = await (await get(ESSAY)).text()
    expect(await textsOf(html, 'nav.crumbs li')).toEqual(['Back Pain', 'Back Exercises', 'Spine Exercises'])
    expect(await attrsOf(html, 'nav.crumbs a', 'href')).toEqual(['/back-pain', '/back-pain/back-exercises'])
    const ld = (await textsOf(html, 'script[type="application/ld+json"]')).map((s) => JSON.parse(s))
    const crumbs = ld.find((d) => d['@type'] === 'BreadcrumbList')
    expect(crumbs.itemListElement.map((i: { name: string }) => i.name)).toEqual([
      'Back Pain',
      'Back Exercises',
      'Spine Exercises',
    ])
    expect(ld.find((d) => d['@type'] === 'Article').headline).toBe('Spine Exercises and Back Pain')
  })

  it('can follow the call to action to the program page and the resource link to the section', async () => {
    const html = await (await get(ESSAY)).text()
    expect(await textsOf(html, 'aside.cta a')).toEqual(['cure back pain program'])
    expect(await attrsOf(html, 'aside.cta a', 'href')).toEqual(['/cure-back-pain-program'])
    const prose = await attrsOf(html, '.prose a[href^="/"]', 'href')
    expect(prose).toContain('/back-pain/back-exercises')
    for (const href of ['/cure-back-pain-program', '/back-pain/back-exercises'])
      expect((await get(href)).status).toBe(200)
  })

  it('gets a table of contents whose links land on the headings', async () => {
    const html = await (await get(ESSAY)).text()
    const tocLinks = await attrsOf(html, 'nav.toc a', 'href')
    const ids = await attrsOf(html, '.prose h2', 'id')
    expect(tocLinks).toEqual(ids.map((id) => `#${id}`))
    expect(await textsOf(html, 'nav.toc a')).toEqual(HEADINGS)
  })

  it('finds the canonical URL, social metadata, the disclaimer and a reading time', async () => {
    const html = await (await get(ESSAY)).text()
    expect(await attrsOf(html, 'link[rel="canonical"]', 'href')).toEqual([
      `https://spine-exercises.example.com${ESSAY}`,
    ])
    expect(await attrsOf(html, 'meta[property="og:type"]', 'content')).toEqual(['article'])
    expect(await attrsOf(html, 'meta[name="twitter:card"]', 'content')).toEqual(['summary_large_image'])
    expect((await textsOf(html, 'footer')).join(' ')).toContain('information, not medical advice')
    expect((await textsOf(html, 'article p.meta')).join(' ')).toMatch(/\d+ min read/)
    expect(await attrsOf(html, 'script[src]', 'src')).toEqual(['/assets/signup.js'])
  })

  it('is allowed by the CSP to render its inline stylesheet and our own script, and nothing else', async () => {
    const res = await get(ESSAY)
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|script-src[^;]*sha256/)
    const home = (await get('/')).headers.get('content-security-policy') ?? ''
    expect(home).not.toContain('script-src')
    const [css] = await textsOf(await res.text(), 'style')
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(css))
    const hash = btoa(String.fromCharCode(...new Uint8Array(digest)))
    expect(csp).toContain(`style-src 'sha256-${hash}'`)
    expect(csp).toContain("default-src 'none'")
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin')
  })
})

describe('a reader browsing sections', () => {
  it('sees each section list its pages with description and reading time', async () => {
    const exercises = await (await get('/back-pain/back-exercises')).text()
    expect(await textsOf(exercises, '.cards h3')).toEqual(['Spine Exercises and Back Pain'])
    expect((await textsOf(exercises, '.cards p')).join(' ')).toMatch(/Why spine exercises rarely cure .* \d+ min read/)
    const backPain = await (await get('/back-pain')).text()
    expect(await textsOf(backPain, '.cards h3')).toEqual(['Back Exercises'])
    expect(await attrsOf(backPain, '.cards a', 'href')).toEqual(['/back-pain/back-exercises'])
  })

  it('finds the sections and the latest essay on the home page', async () => {
    const home = await (await get('/')).text()
    expect(await attrsOf(home, 'main .cards a', 'href')).toEqual(['/back-pain', ESSAY])
    expect(await textsOf(home, 'nav.primary a')).toEqual(['Home', 'Back Pain', 'Free course'])
  })

  it('sees the program page describe the course as the essay in five lessons', async () => {
    const program = await (await get('/cure-back-pain-program')).text()
    expect(await textsOf(program, 'h1')).toEqual(['The cure back pain program'])
    expect(await textsOf(program, 'section[aria-labelledby="lessons-title"] li')).toEqual([
      'Spine Exercises and Back Pain',
      ...HEADINGS,
    ])
  })
})

describe('feed readers and search engines', () => {
  const parser = new XMLParser({ ignoreAttributes: false })

  it('get a well-formed Atom feed listing the essay with its content', async () => {
    const res = await get('/feed.xml')
    expect(res.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8')
    const xml = await res.text()
    expect(XMLValidator.validate(xml)).toBe(true)
    const feed = parser.parse(xml).feed
    const entry = [feed.entry].flat()[0]
    expect(entry.title).toBe('Spine Exercises and Back Pain')
    expect(entry.id).toBe(`https://spine-exercises.example.com${ESSAY}`)
    expect(entry.content['#text']).toContain('What are Spine Exercises?')
  })

  it('get a well-formed sitemap listing every page, and robots.txt pointing to it', async () => {
    const xml = await (await get('/sitemap.xml')).text()
    expect(XMLValidator.validate(xml)).toBe(true)
    const locs = [parser.parse(xml).urlset.url].flat().map((u: { loc: string }) => new URL(u.loc).pathname)
    expect(locs).toEqual(['/', '/back-pain', '/back-pain/back-exercises', ESSAY, '/cure-back-pain-program', '/privacy'])
    const robots = await (await get('/robots.txt')).text()
    expect(robots).toContain('Sitemap: https://spine-exercises.example.com/sitemap.xml')
  })
})

describe('caching and the shape of URLs', () => {
  it('answers a matching If-None-Match with 304 and no body, and a stale one with the page', async () => {
    const first = await get(ESSAY)
    const tag = first.headers.get('etag')
    expect(tag).toMatch(/^"[0-9a-f]{64}"$/)
    expect(first.headers.get('cache-control')).toContain('stale-while-revalidate')
    const again = await get(ESSAY, { headers: { 'If-None-Match': tag ?? '' } })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    const stale = await get(ESSAY, { headers: { 'If-None-Match': '"not-this-one"' } })
    expect(stale.status).toBe(200)
  })

  it('answers HEAD with the headers and no body', async () => {
    const res = await get(ESSAY, { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]{64}"$/)
    expect(await res.text()).toBe('')
  })

  it.each([
    ['/back-pain/', '/back-pain'],
    ['/back-pain/index.html', '/back-pain'],
    ['/index.html', '/'],
    [`${ESSAY}/?utm_source=x`, `${ESSAY}?utm_source=x`],
  ])('redirects %s permanently to %s', async (from, to) => {
    const res = await get(from, { redirect: 'manual' })
    expect(res.status).toBe(301)
    expect(res.headers.get('location')).toBe(to)
  })

  it('serves the 404 page with status 404 for an unknown path', async () => {
    const res = await get('/back-pain/no-such-essay')
    expect(res.status).toBe(404)
    expect(await textsOf(await res.text(), 'h1')).toEqual(['Page not found'])
  })

  it('refuses other methods on a page with 405 and says which are allowed', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await get(ESSAY, { method })
      expect(res.status).toBe(405)
      expect(res.headers.get('allow')).toBe('GET, HEAD')
    }
  })

  it('is what the deployed Worker serves', async () => {
    const res = await exports.default.fetch(`http://localhost${ESSAY}`)
    expect(res.status).toBe(200)
    expect(await textsOf(await res.text(), 'h1')).toEqual(['Spine Exercises and Back Pain'])
  })
})

describe('when storage fails', () => {
  it('answers 503 with a plain message when nothing is published', async () => {
    const res = await get(ESSAY, {}, { ...env, CONTENT: await emptyNamespace() })
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('30')
    expect(await res.text()).toMatch(/try again/i)
  })

  it('answers 503, never a stack trace, when KV is unreachable', async () => {
    const unreachable = new Proxy(env.CONTENT, {
      get: (target, prop) =>
        prop === 'get' ? () => Promise.reject(new Error('KV unreachable')) : Reflect.get(target, prop),
    })
    const res = await get(ESSAY, {}, { ...env, CONTENT: unreachable })
    expect(res.status).toBe(503)
    expect(await res.text()).not.toContain('KV unreachable')
  })
})

/** A namespace with nothing published: the test's own KV with the manifest key hidden. */
async function emptyNamespace(): Promise<KVNamespace> {
  return new Proxy(env.CONTENT, {
    get: (target, prop) =>
      prop === 'get'
        ? (key: string, o?: unknown) => (key === 'v1:manifest' ? Promise.resolve(null) : target.get(key, o as never))
        : Reflect.get(target, prop),
  })
}
