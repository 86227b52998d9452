import { etag } from 'hono/etag'
import { Hono } from 'hono/tiny'
import * as v from 'valibot'
import { pageRoute, problem, validate } from '../lib/api'
import { pageCsp } from '../lib/security'
import { renderPage } from '../ui/page'
import type { SiteContent } from './content'
import type { Manifest, ManifestEntry } from './manifest'
import { SearchResults } from './render/search'
import { SEARCH_INDEX_PATH, type SearchIndex, search } from './search'

/** GET /search: the query, up to 200 characters; other parameters (UTM tags of a shared link) are ignored. */
const searchSchema = v.object({
  q: v.optional(v.pipe(v.string('must be text'), v.maxLength(200, 'must be at most 200 characters')), ''),
})

const PAGE_CACHE = 'public, max-age=300, stale-while-revalidate=86400'
const NOT_FOUND_CACHE = 'public, max-age=60'

/**
 * The one canonical form of a path: no trailing slash, no `index.html`.
 * @example canonicalPath('/back-pain/index.html') // '/back-pain'
 */
export function canonicalPath(path: string): string {
  const trimmed = path.replace(/\/index\.html$/, '/').replace(/\/+$/, '')
  return trimmed === '' ? '/' : trimmed
}

/**
 * Readers' routes: every published path served from KV through the manifest, with ETag/304,
 * canonical redirects, the 404 page, and 405 for methods a page does not take.
 */
export function siteRoutes(content: SiteContent) {
  const app = new Hono<{ Bindings: Env }>()

  const serve = async (kv: KVNamespace, manifest: Manifest, entry: ManifestEntry, status: 200 | 404) =>
    new Response(await content.blob(kv, entry.hash), {
      status,
      headers: {
        'Content-Type': entry.contentType,
        'Cache-Control': status === 200 ? PAGE_CACHE : NOT_FOUND_CACHE,
        ...(status === 200 ? { ETag: `"${entry.hash}"` } : {}),
        ...(entry.contentType.startsWith('text/html')
          ? {
              'Content-Security-Policy': pageCsp(
                manifest.styleSrc,
                entry.scripts,
                Boolean(manifest.settings.turnstileSiteKey),
              ),
            }
          : {}),
      },
    })

  app.use(etag())

  // The index, parsed once per published version in this isolate.
  let parsed: { hash: string; index: SearchIndex } | undefined
  const searchIndex = async (kv: KVNamespace, manifest: Manifest): Promise<SearchIndex> => {
    const entry = manifest.routes[SEARCH_INDEX_PATH]
    if (!entry) return { version: 1, essays: [] }
    if (parsed?.hash !== entry.hash)
      parsed = {
        hash: entry.hash,
        index: JSON.parse(new TextDecoder().decode(await content.blob(kv, entry.hash))) as SearchIndex,
      }
    return parsed.index
  }

  app.get(
    '/search',
    pageRoute('Search the essays (no JavaScript needed)', { 400: problem('q is over 200 characters') }, ['readers']),
    validate('query', searchSchema),
    async (c) => {
      const { q } = c.req.valid('query')
      const manifest = await content.manifest(c.env.CONTENT)
      const hits = search(await searchIndex(c.env.CONTENT, manifest), q)
      // A page about one query: never cached by the edge or indexed (renderPage says noindex).
      return renderPage(
        manifest.settings,
        { title: q ? `Search: ${q}` : 'Search', description: 'Search the essays.' },
        <SearchResults q={q.trim()} hits={hits} />,
      )
    },
  )

  // Hono answers HEAD through this GET handler, without the body.
  app.get('*', async (c) => {
    const manifest = await content.manifest(c.env.CONTENT)
    const path = c.req.path
    const entry = manifest.routes[path]
    if (entry) return serve(c.env.CONTENT, manifest, entry, 200)
    const canonical = canonicalPath(path)
    if (canonical !== path && manifest.routes[canonical]) {
      const search = new URL(c.req.url).search
      return c.redirect(`${canonical}${search}`, 301)
    }
    return serve(c.env.CONTENT, manifest, manifest.notFound, 404)
  })

  app.all('*', async (c) => {
    const manifest = await content.manifest(c.env.CONTENT)
    const path = canonicalPath(c.req.path)
    if (!manifest.routes[path]) return serve(c.env.CONTENT, manifest, manifest.notFound, 404)
    return c.text(`${c.req.method} is not allowed here; this page answers GET and HEAD.\n`, 405, { Allow: 'GET, HEAD' })
  })

  return app
}
