import { raw } from 'hono/html'
import type { Child } from 'hono/jsx'
import { absoluteUrl, JsonLd } from './components'
import type { LinkItem, SiteSettings } from './types'

/** What the layout needs to know about the page it wraps. */
export interface LayoutProps {
  site: SiteSettings
  css: string
  nav: LinkItem[]
  title: string
  description: string
  /** The canonical path; undefined for pages that have no URL of their own (404). */
  path?: string
  ogType?: 'website' | 'article'
  /**
   * Published pages' share image tags (og:image…, twitter:card summary_large_image…), made by the
   * build; pages without (rendered per request) keep the small card.
   */
  shareMeta?: Child
  jsonLd?: unknown[]
  /** A script file loaded with `defer`; pages without forms have none. */
  script?: string
  /** Load Cloudflare Turnstile's widget (forms on a site with a Turnstile site key). */
  turnstile?: boolean
  /** Only the content: no header, navigation or footer (the embeddable form in another site's page). */
  bare?: boolean
  /** A header of its own instead of the readers' (the dashboard's), and no readers' footer. */
  header?: Child
  children: Child
}

/** The complete HTML document every page shares: head metadata, header, main, footer. */
export const Layout = (p: LayoutProps) => {
  const { site } = p
  const url = p.path === undefined ? undefined : absoluteUrl(site, p.path)
  const fullTitle = p.path === '/' ? site.name : `${p.title} | ${site.name}`
  return (
    <html lang={site.language}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {/* Framed on a partner's page: links open the site itself, not inside the frame. */}
        {p.bare ? <base target="_top" /> : null}
        <title>{fullTitle}</title>
        <meta name="description" content={p.description} />
        {url ? <link rel="canonical" href={url} /> : <meta name="robots" content="noindex" />}
        <link rel="alternate" type="application/atom+xml" title={site.name} href="/feed.xml" />
        <meta property="og:site_name" content={site.name} />
        <meta property="og:locale" content={site.locale} />
        <meta property="og:type" content={p.ogType ?? 'website'} />
        <meta property="og:title" content={p.title} />
        <meta property="og:description" content={p.description} />
        {url ? <meta property="og:url" content={url} /> : null}
        {p.shareMeta ?? <meta name="twitter:card" content="summary" />}
        <meta name="twitter:title" content={p.title} />
        <meta name="twitter:description" content={p.description} />
        <meta name="color-scheme" content="light dark" />
        <link rel="icon" href="/favicon.ico" sizes="32x32" />
        <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
        <link rel="apple-touch-icon" href="/apple-touch-icon.png" />
        {/* <style> is a raw-text element: escaping would corrupt the CSS and its CSP hash. */}
        <style>{raw(p.css)}</style>
        {(p.jsonLd ?? []).map((data) => (
          <JsonLd data={data} />
        ))}
        {p.script ? <script src={p.script} defer /> : null}
        {p.turnstile ? <script src="https://challenges.cloudflare.com/turnstile/v0/api.js" async defer /> : null}
      </head>
      <body>
        {p.bare ? (
          <main id="content">{p.children}</main>
        ) : p.header ? (
          <>
            <a class="skip" href="#content">
              Skip to content
            </a>
            <header class="site admin">{p.header}</header>
            <main id="content">{p.children}</main>
          </>
        ) : (
          <>
            <a class="skip" href="#content">
              Skip to content
            </a>
            <header class="site">
              <a class="brand" href="/">
                {site.name}
              </a>
              <nav class="primary" aria-label="Main">
                <ul>
                  {p.nav.map((item) => (
                    <li>
                      <a href={item.href} aria-current={item.href === p.path ? 'page' : undefined}>
                        {item.text}
                      </a>
                    </li>
                  ))}
                </ul>
              </nav>
              <search class="site-search">
                <form action="/search" method="get">
                  <label for="site-search-q">Search</label>
                  <input id="site-search-q" name="q" type="search" maxlength={200} />
                  <button type="submit">Go</button>
                </form>
              </search>
            </header>
            <main id="content">{p.children}</main>
            <footer class="site">
              <p>{site.disclaimer}</p>
              <p>
                <a href="/feed.xml">Subscribe to the feed</a> · <a href="/sitemap.xml">Sitemap</a> ·{' '}
                <a href="/privacy">Privacy</a>
              </p>
              <p>{site.postalAddress}</p>
            </footer>
          </>
        )}
      </body>
    </html>
  )
}
