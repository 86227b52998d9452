import { Hono } from 'hono'
import { etag } from 'hono/etag'
import { HTTPException } from 'hono/http-exception'
import { pageCsp } from '../lib/security'
import { blobCache, type Manifest, type ManifestEntry, manifestCache } from './manifest'

/** Options of the reader-facing routes. */
export interface SiteOptions {
  /** How long a manifest read is reused by this isolate. */
  manifestTtlMs: number
  /** How many bytes of published blobs this isolate keeps in memory. */
  blobCacheBytes: number
}

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

const unavailable = (why: string, cause?: unknown) =>
  new HTTPException(503, {
    message: why,
    cause,
    res: new Response('The site is being published or its storage is unreachable. Please try again in a minute.\n', {
      status: 503,
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '30', 'Cache-Control': 'no-store' },
    }),
  })

/**
 * Readers' routes: every published path served from KV through the manifest, with ETag/304,
 * canonical redirects, the 404 page, and 405 for methods a page does not take.
 */
export function siteRoutes(options: SiteOptions) {
  const getManifest = manifestCache(options.manifestTtlMs)
  const getBlob = blobCache(options.blobCacheBytes)
  const app = new Hono<{ Bindings: Env }>()

  const loadManifest = async (kv: KVNamespace): Promise<Manifest> => {
    let manifest: Manifest | undefined
    try {
      manifest = await getManifest(kv)
    } catch (err) {
      throw unavailable('storage', err)
    }
    if (!manifest) throw unavailable('unpublished')
    return manifest
  }

  const serve = async (kv: KVNamespace, manifest: Manifest, entry: ManifestEntry, status: 200 | 404) => {
    let body: ArrayBuffer | undefined
    try {
      body = await getBlob(kv, entry.hash)
    } catch (err) {
      throw unavailable('storage', err)
    }
    if (!body) throw unavailable('missing-blob')
    return new Response(body, {
      status,
      headers: {
        'Content-Type': entry.contentType,
        'Cache-Control': status === 200 ? PAGE_CACHE : NOT_FOUND_CACHE,
        ...(status === 200 ? { ETag: `"${entry.hash}"` } : {}),
        ...(entry.contentType.startsWith('text/html') ? { 'Content-Security-Policy': pageCsp(manifest.styleSrc) } : {}),
      },
    })
  }

  app.use(etag())

  // Hono answers HEAD through this GET handler, without the body.
  app.get('*', async (c) => {
    const manifest = await loadManifest(c.env.CONTENT)
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
    const manifest = await loadManifest(c.env.CONTENT)
    const path = canonicalPath(c.req.path)
    if (!manifest.routes[path]) return serve(c.env.CONTENT, manifest, manifest.notFound, 404)
    return c.text(`${c.req.method} is not allowed here; this page answers GET and HEAD.\n`, 405, { Allow: 'GET, HEAD' })
  })

  return app
}
