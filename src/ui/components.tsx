import { raw } from 'hono/html'
import type { Child } from 'hono/jsx'
import type { LinkItem, PageModel, SiteSettings } from './types'

/** Absolute URL of a site path, for canonical links, feeds and structured data. */
export const absoluteUrl = (site: SiteSettings, path: string): string => new URL(path, site.baseUrl).toString()

/** JSON-LD block; `<` is escaped so that no string in the data can close the script element. */
export const JsonLd = ({ data }: { data: unknown }) => (
  <script type="application/ld+json">{raw(JSON.stringify(data).replace(/</g, '\\u003c'))}</script>
)

/**
 * Body HTML of a page. It is trusted because the build made it from our own Markdown with
 * raw HTML disabled in markdown-it, so this is the one place pre-rendered HTML enters a page.
 */
export const Prose = ({ html }: { html: string }) => <div class="prose">{raw(html)}</div>

/** The visible breadcrumb, from the top section down to the current page. */
export const Breadcrumb = ({ trail, current }: { trail: LinkItem[]; current: string }) => (
  <nav class="crumbs" aria-label="Breadcrumb">
    <ol>
      {trail.map((item) => (
        <li>
          <a href={item.href}>{item.text}</a>
        </li>
      ))}
      <li aria-current="page">{current}</li>
    </ol>
  </nav>
)

/** A list of pages with their description and reading time, as on section pages. */
export const PageList = ({ pages, headingLevel = 3 }: { pages: PageModel[]; headingLevel?: 2 | 3 }) => (
  <ul class="cards">
    {pages.map((p) => {
      const heading = <a href={p.path}>{p.title}</a>
      return (
        <li>
          {headingLevel === 2 ? <h2>{heading}</h2> : <h3>{heading}</h3>}
          <p>{p.description}</p>
          <p class="meta">{readingLabel(p)}</p>
        </li>
      )
    })}
  </ul>
)

/** "6 min read" for an essay, "3 articles" for a section. */
export const readingLabel = (p: PageModel): string => {
  if (p.kind === 'section') {
    const n = countEssays(p)
    return `${n} ${n === 1 ? 'article' : 'articles'}`
  }
  return `${p.readingMinutes} min read`
}

const countEssays = (p: PageModel): number =>
  p.children.reduce((n, c) => n + (c.kind === 'section' ? countEssays(c) : 1), 0)

/** Table of contents of an essay's headed parts. */
export const Toc = ({ items }: { items: LinkItem[] }) =>
  items.length === 0 ? null : (
    <nav class="toc" aria-labelledby="toc-title">
      <h2 id="toc-title">Contents</h2>
      <ol>
        {items.map((i) => (
          <li>
            <a href={i.href}>{i.text}</a>
          </li>
        ))}
      </ol>
    </nav>
  )

/** Publication line: dates as readers read them, machine-readable in <time>. */
export const Dateline = ({ page, extra }: { page: PageModel; extra?: Child }) => (
  <p class="meta">
    Published <time datetime={page.published}>{formatDate(page.published)}</time>
    {page.updated !== page.published ? (
      <>
        {' · Updated '}
        <time datetime={page.updated}>{formatDate(page.updated)}</time>
      </>
    ) : null}
    {page.review ? (
      <>
        {' · Reviewed by '}
        {page.review.by}
        {' on '}
        <time datetime={page.review.on}>{formatDate(page.review.on)}</time>
      </>
    ) : null}
    {extra}
  </p>
)

const formatDate = (iso: string): string =>
  new Date(`${iso}T00:00:00Z`).toLocaleDateString('en-US', {
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    timeZone: 'UTC',
  })
