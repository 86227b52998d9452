import { html } from 'hono/html'
import { absoluteUrl } from '../../ui/components'
import type { PageModel, SiteSettings } from '../../ui/types'

const atomTime = (isoDate: string) => `${isoDate}T00:00:00Z`

/** The Atom feed of every essay, newest first, with full content for feed readers. */
export function renderFeed(site: SiteSettings, essays: PageModel[]): string {
  const updated = essays.reduce((max, e) => (e.updated > max ? e.updated : max), '1970-01-01')
  const home = absoluteUrl(site, '/')
  const entries = essays.map(
    (e) =>
      html`<entry><title>${e.title}</title><link rel="alternate" type="text/html" href="${absoluteUrl(site, e.path)}"/><id>${absoluteUrl(site, e.path)}</id><published>${atomTime(e.published)}</published><updated>${atomTime(e.updated)}</updated><summary>${e.description}</summary><content type="html">${e.html}</content></entry>`,
  )
  return `<?xml version="1.0" encoding="utf-8"?>\n${html`<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${site.language}" xml:base="${home}"><title>${site.name}</title><subtitle>${site.description}</subtitle><link rel="self" type="application/atom+xml" href="${absoluteUrl(site, '/feed.xml')}"/><link rel="alternate" type="text/html" href="${home}"/><id>${home}</id><updated>${atomTime(updated)}</updated><author><name>${site.author}</name></author>${entries}</feed>`}\n`
}

/** sitemap.xml listing every page with its last change. */
export function renderSitemap(site: SiteSettings, pages: PageModel[]): string {
  const urls = [...pages]
    .sort((a, b) => a.path.localeCompare(b.path))
    .map((p) => html`<url><loc>${absoluteUrl(site, p.path)}</loc><lastmod>${p.updated}</lastmod></url>`)
  return `<?xml version="1.0" encoding="UTF-8"?>\n${html`<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${urls}</urlset>`}\n`
}

/** robots.txt: everything may be crawled; the sitemap says where. */
export const renderRobots = (site: SiteSettings): string =>
  `User-agent: *\nAllow: /\n\nSitemap: ${absoluteUrl(site, '/sitemap.xml')}\n`
