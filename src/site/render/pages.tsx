import type { Child } from 'hono/jsx'
import { absoluteUrl, Breadcrumb, Dateline, PageList, Prose, Toc } from '../../ui/components'
import { Layout } from '../../ui/layout'
import { SIGNUP_SCRIPT_PATH, SignupForm } from '../../ui/signup-form'
import { type LinkItem, newsletterOf, type PageModel, type SiteSettings } from '../../ui/types'
import { ShareImageMeta } from './share'

/** What every page renderer gets: the page, the site, the shared chrome. */
export interface RenderContext {
  site: SiteSettings
  css: string
  nav: LinkItem[]
  /** All essays of the site, newest first (for the home page). */
  essays: PageModel[]
}

const breadcrumbLd = (site: SiteSettings, page: PageModel) => ({
  '@context': 'https://schema.org',
  '@type': 'BreadcrumbList',
  itemListElement: [...page.trail, { href: page.path, text: page.navTitle }].map((item, i) => ({
    '@type': 'ListItem',
    position: i + 1,
    name: item.text,
    item: absoluteUrl(site, item.href),
  })),
})

const articleLd = (site: SiteSettings, page: PageModel) => ({
  '@context': 'https://schema.org',
  '@type': 'Article',
  headline: page.title,
  description: page.description,
  datePublished: page.published,
  dateModified: page.updated,
  wordCount: page.words,
  inLanguage: site.language,
  mainEntityOfPage: absoluteUrl(site, page.path),
  author: { '@type': 'Organization', name: site.author },
  publisher: { '@type': 'Organization', name: site.name, url: site.baseUrl },
})

/** A medically reviewed page says so to search engines, beside its Article (schema.org MedicalWebPage). */
const reviewLd = (site: SiteSettings, page: PageModel) =>
  page.review
    ? [
        {
          '@context': 'https://schema.org',
          '@type': 'MedicalWebPage',
          name: page.title,
          url: absoluteUrl(site, page.path),
          inLanguage: site.language,
          lastReviewed: page.review.on,
          reviewedBy: { '@type': 'Person', name: page.review.by },
        },
      ]
    : []

/** The signup form of the page's course, if it belongs to one. */
const courseForm = (ctx: RenderContext, page: PageModel, id: string, source: string) => {
  const course = page.course ? ctx.site.courses[page.course] : undefined
  if (!page.course || !course) return null
  return (
    <SignupForm
      id={id}
      course={page.course}
      consent={course.consent}
      newsletterConsent={newsletterOf(ctx.site).consent}
      source={source}
      landingPath={page.path}
      turnstileSiteKey={ctx.site.turnstileSiteKey}
    />
  )
}

const shell = (ctx: RenderContext, page: PageModel, children: Child, jsonLd: unknown[] = []) => (
  <Layout
    script={page.course ? SIGNUP_SCRIPT_PATH : undefined}
    turnstile={Boolean(page.course && ctx.site.turnstileSiteKey)}
    site={ctx.site}
    css={ctx.css}
    nav={ctx.nav}
    title={page.title}
    description={page.description}
    path={page.path}
    ogType={page.kind === 'essay' ? 'article' : 'website'}
    shareMeta={<ShareImageMeta site={ctx.site} title={page.title} path={page.path} />}
    jsonLd={page.trail.length > 0 ? [...jsonLd, breadcrumbLd(ctx.site, page)] : jsonLd}
  >
    {page.trail.length > 0 ? <Breadcrumb trail={page.trail} current={page.navTitle} /> : null}
    {children}
  </Layout>
)

/** An essay: title, dateline with reading time, contents, body, call to action. */
export const EssayPage = ({ ctx, page }: { ctx: RenderContext; page: PageModel }) =>
  shell(
    ctx,
    page,
    <article>
      <h1>{page.title}</h1>
      <Dateline page={page} extra={` · ${page.readingMinutes} min read`} />
      <Toc items={page.toc} />
      <Prose html={page.html} />
      {page.cta ? (
        <aside class="cta" aria-label="Next step">
          <p>{page.cta.text}</p>
          <p>
            <a href={page.cta.href}>{page.cta.label}</a>
          </p>
        </aside>
      ) : null}
      {courseForm(ctx, page, 'signup-essay', 'essay-end')}
    </article>,
    [articleLd(ctx.site, page), ...reviewLd(ctx.site, page)],
  )

/** A section: its introduction, then its pages and sub-sections. */
export const SectionPage = ({ ctx, page }: { ctx: RenderContext; page: PageModel }) =>
  shell(
    ctx,
    page,
    <>
      <h1>{page.title}</h1>
      <p class="lede">{page.description}</p>
      <Prose html={page.html} />
      <h2>In this section</h2>
      <PageList pages={page.children} />
    </>,
  )

/** The home page: welcome text, the top sections, the latest essays. */
export const HomePage = ({ ctx, page }: { ctx: RenderContext; page: PageModel }) =>
  shell(
    ctx,
    page,
    <>
      <h1>{page.title}</h1>
      <Prose html={page.html} />
      <h2>Sections</h2>
      <PageList pages={page.children.filter((c) => c.kind === 'section')} />
      <h2>Latest essays</h2>
      <PageList pages={ctx.essays.slice(0, 10)} />
    </>,
  )

/** Lessons of a course: the opening of each essay in it, then each of its headed parts. */
export const courseLessons = (ctx: RenderContext, course: string): LinkItem[] =>
  ctx.essays
    .filter((e) => e.course === course)
    .flatMap((e) => [
      { href: e.path, text: e.title },
      ...e.toc.map((t) => ({ href: `${e.path}${t.href}`, text: t.text })),
    ])

/** A standalone page (the program page): body, and the course's lessons when it has one. */
export const StandalonePage = ({ ctx, page }: { ctx: RenderContext; page: PageModel }) => {
  const lessons = page.course ? courseLessons(ctx, page.course) : []
  return shell(
    ctx,
    page,
    <article>
      <h1>{page.title}</h1>
      <p class="lede">{page.description}</p>
      <Prose html={page.html} />
      {lessons.length > 0 ? (
        <section aria-labelledby="lessons-title">
          <h2 id="lessons-title">The lessons</h2>
          <ol>
            {lessons.map((l) => (
              <li>
                <a href={l.href}>{l.text}</a>
              </li>
            ))}
          </ol>
        </section>
      ) : null}
      {courseForm(ctx, page, 'signup', 'program-page')}
    </article>,
  )
}

/** The page served with status 404. */
export const NotFoundPage = ({ ctx }: { ctx: RenderContext }) => (
  <Layout site={ctx.site} css={ctx.css} nav={ctx.nav} title="Page not found" description="This page does not exist.">
    <h1>Page not found</h1>
    <p>There is no page at this address. It may have moved, or the link may be mistyped.</p>
    <p>
      Try the <a href="/">home page</a>, or one of these sections:
    </p>
    <ul>
      {ctx.nav.map((n) => (
        <li>
          <a href={n.href}>{n.text}</a>
        </li>
      ))}
    </ul>
  </Layout>
)
