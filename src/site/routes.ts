import { Hono } from 'hono'
import { etag } from 'hono/etag'
import { pageCsp } from '../lib/security'
import type { SiteContent } from './content'
import type { Manifest, ManifestEntry } from './manifest'

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
