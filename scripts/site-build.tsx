/**
 * Build step (Node): turns content/ into finished pages, feed, sitemap and robots.txt with the
 * site's own components. Run directly, it writes dist/site-build.json for inspection and publishing.
 */
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import matter from 'gray-matter'
import { convert } from 'html-to-text'
import MarkdownIt from 'markdown-it'
import anchor from 'markdown-it-anchor'
import footnote from 'markdown-it-footnote'
import type { BuiltFile, SiteBuild } from '../src/site/publish'
import { faviconColor, faviconSvg } from '../src/site/render/favicon'
import { renderFeed, renderRobots, renderSitemap } from '../src/site/render/feeds'
import {
  EssayPage,
  HomePage,
  NotFoundPage,
  type RenderContext,
  SectionPage,
  StandalonePage,
} from '../src/site/render/pages'
import { ICONS, SHARE_IMAGE, shareImagePath } from '../src/site/render/share'
import { SEARCH_INDEX_PATH, type SearchIndex } from '../src/site/search'
import { API_DOCS_ASSETS, apiDocsInitScript } from '../src/ui/api-docs'
import { SIGNUP_SCRIPT_PATH, signupScript } from '../src/ui/signup-form'
import { siteCss } from '../src/ui/styles'
import type { EssayPart, LinkItem, PageKind, PageModel, SiteSettings } from '../src/ui/types'
import { buildCourses } from './course-build'
import { buildEmails } from './email-build'
import { buildNewsletter, type Letter } from './newsletter-build'
import { OPENAPI_PATH, openApiDocument } from './openapi-build'
import { iconImages, shareImage } from './share-image'

const HTML = 'text/html; charset=utf-8'
const root = fileURLToPath(new URL('..', import.meta.url))

/** The result of a build: what gets published, and the page models (for checks and later steps). */
export interface BuildResult {
  build: SiteBuild
  pages: PageModel[]
  site: SiteSettings
}

/** A content file that breaks a rule; the message names the file and the field. */
export class ContentError extends Error {}

const slugify = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .trim()
    .replace(/\s+/g, '-')

function markdown() {
  // html: false — content cannot smuggle markup; the Prose component relies on it.
  // Footnotes (`[^1]`) for references: a numbered list at the end, each with a link back.
  return new MarkdownIt({ html: false, linkify: false, typographer: false })
    .use(anchor, {
      level: 2,
      slugify,
      permalink: anchor.permalink.headerLink({ safariReaderFix: true }),
    })
    .use(footnote)
}

/** Letters (one-off emails that are not pages) live here, beside the pages. */
export const LETTERS_DIR = 'letters'

async function listMarkdown(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  const letters = join(dir, LETTERS_DIR)
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.md'))
    .filter((e) => e.parentPath !== letters && !e.parentPath.startsWith(`${letters}${sep}`))
    .map((e) => join(e.parentPath, e.name))
    .sort()
}

/** `back-pain/index.md` -> `/back-pain`; `back-pain/x.md` -> `/back-pain/x`; `index.md` -> `/`. */
export function pathOf(relFile: string): string {
  const parts = relFile.split(sep).join('/').replace(/\.md$/, '').split('/')
  if (parts.at(-1) === 'index') parts.pop()
  return `/${parts.join('/')}`
}

const isoDate = (v: unknown, file: string, field: string): string => {
  const d = v instanceof Date ? v : typeof v === 'string' ? new Date(v) : undefined
  if (!d || Number.isNaN(d.getTime()))
    throw new ContentError(`${file}: front matter "${field}" must be a date (YYYY-MM-DD)`)
  return d.toISOString().slice(0, 10)
}

const text = (v: unknown, file: string, field: string): string => {
  if (typeof v !== 'string' || v.trim() === '') throw new ContentError(`${file}: front matter "${field}" is required`)
  return v.trim()
}

function readCta(v: unknown, file: string): PageModel['cta'] {
  if (v === undefined) return undefined
  const o = (v ?? {}) as Record<string, unknown>
  return {
    text: text(o.text, file, 'cta.text'),
    label: text(o.label, file, 'cta.label'),
    href: text(o.href, file, 'cta.href'),
  }
}

async function loadPage(
  md: ReturnType<typeof markdown>,
  contentDir: string,
  file: string,
  wpm: number,
): Promise<PageModel> {
  const rel = relative(contentDir, file)
  const { data, content } = matter(await readFile(file, 'utf8'))
  const path = pathOf(rel)
  const isIndex = rel.split(sep).at(-1) === 'index.md'
  const declared = data.type as string | undefined
  if (declared !== undefined && declared !== 'essay' && declared !== 'page')
    throw new ContentError(`${rel}: front matter "type" must be "essay" or "page"`)
  const kind: PageKind = path === '/' ? 'home' : isIndex ? 'section' : (declared ?? 'essay')
  const env: Record<string, unknown> = {}
  const tokens = md.parse(content, env)
  const toc: LinkItem[] = []
  tokens.forEach((t, i) => {
    if (t.type === 'heading_open' && t.tag === 'h2')
      toc.push({ href: `#${t.attrGet('id')}`, text: tokens[i + 1]?.content ?? '' })
  })
  const html = md.renderer.render(tokens, md.options, env)
  const parts = kind === 'essay' ? cutParts(md, tokens, env, data.lessons, rel) : []
  const words = content.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length
  const title = text(data.title, rel, 'title')
  const published = isoDate(data.published, rel, 'published')
  if ((data.reviewed_by === undefined) !== (data.reviewed === undefined))
    throw new ContentError(`${rel}: front matter "reviewed_by" and "reviewed" go together (who, and on which date)`)
  const review =
    data.reviewed_by === undefined
      ? undefined
      : { by: text(data.reviewed_by, rel, 'reviewed_by'), on: isoDate(data.reviewed, rel, 'reviewed') }
  return {
    path,
    kind,
    title,
    navTitle: typeof data.nav_title === 'string' ? data.nav_title : title,
    description: text(data.description, rel, 'description'),
    published,
    updated: data.updated === undefined ? published : isoDate(data.updated, rel, 'updated'),
    ...(review ? { review } : {}),
    order: typeof data.order === 'number' ? data.order : Number.MAX_SAFE_INTEGER,
    inNav: data.nav !== false,
    html,
    toc: kind === 'essay' ? toc : [],
    words,
    readingMinutes: Math.max(1, Math.round(words / wpm)),
    cta: readCta(data.cta, rel),
    course: typeof data.course === 'string' ? data.course : undefined,
    newsletter: readNewsletter(data.newsletter, rel),
    trail: [],
    children: [],
    parts: parts.map((p) => ({ ...p, title: p.title || title })),
  }
}

/** Front matter `newsletter`: absent or true sends the essay to the newsletter; false keeps it out. */
function readNewsletter(v: unknown, rel: string): boolean {
  if (v === undefined || v === true) return true
  if (v === false) return false
  throw new ContentError(`${rel}: front matter "newsletter" must be true or false`)
}

type Token = ReturnType<ReturnType<typeof markdown>['parse']>[number]

/** Cuts an essay at its `##` headings: the opening, then one part per heading (its lessons). */
function cutParts(
  md: ReturnType<typeof markdown>,
  tokens: Token[],
  env: Record<string, unknown>,
  lessons: unknown,
  rel: string,
): EssayPart[] {
  const extra = Array.isArray(lessons) ? (lessons as Record<string, unknown>[]) : []
  if (lessons !== undefined && !Array.isArray(lessons))
    throw new ContentError(`${rel}: front matter "lessons" must be a list`)
  const parts: { id?: string; title: string; tokens: Token[] }[] = [{ title: '', tokens: [] }]
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token
    if (t.type === 'heading_open' && t.tag === 'h2') {
      parts.push({ id: String(t.attrGet('id') ?? '') || undefined, title: tokens[i + 1]?.content ?? '', tokens: [] })
      i += 2 // the heading's inline content and its closing tag
      continue
    }
    parts.at(-1)?.tokens.push(t)
  }
  return parts.map((p, i) => {
    const x = extra[i] ?? {}
    return {
      id: p.id,
      title: p.title,
      html: md.renderer.render(p.tokens, md.options, env),
      subject: typeof x.subject === 'string' ? x.subject : undefined,
      intro: typeof x.intro === 'string' ? x.intro : undefined,
    }
  })
}

const byOrderThenTitle = (a: PageModel, b: PageModel) => a.order - b.order || a.title.localeCompare(b.title)

/** Links each page to its parent section: the nearest folder above it that has an index.md. */
function linkTree(pages: PageModel[]): void {
  const byPath = new Map(pages.map((p) => [p.path, p]))
  const parentOf = (p: PageModel): PageModel | undefined => {
    if (p.path === '/') return undefined
    const parts = p.path.split('/').slice(1, -1)
    for (let n = parts.length; n >= 0; n--) {
      const found = byPath.get(`/${parts.slice(0, n).join('/')}`)
      if (found) return found
    }
    return undefined
  }
  for (const p of pages) {
    const parent = parentOf(p)
    parent?.children.push(p)
    const trail: LinkItem[] = []
    for (let a = parent; a && a.path !== '/'; a = parentOf(a)) trail.unshift({ href: a.path, text: a.navTitle })
    p.trail = trail
  }
  for (const p of pages) p.children.sort(byOrderThenTitle)
}

/** The CSP source that allows exactly this inline stylesheet or script. */
export const hashSource = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`

/** Builds the whole site from a content folder (and the emails from the folder beside it). */
export async function buildSite(contentDir: string, emailsDir = join(root, 'emails')): Promise<BuildResult> {
  const site = JSON.parse(await readFile(join(contentDir, 'site.json'), 'utf8')) as SiteSettings
  const md = markdown()
  const pages = await Promise.all(
    (await listMarkdown(contentDir)).map((f) => loadPage(md, contentDir, f, site.wordsPerMinute)),
  )
  const home = pages.find((p) => p.path === '/')
  if (!home) throw new ContentError('content/index.md (the home page) is missing')
  linkTree(pages)
  const essays = pages
    .filter((p) => p.kind === 'essay')
    .sort((a, b) => b.published.localeCompare(a.published) || byOrderThenTitle(a, b))
  const ctx: RenderContext = {
    site,
    css: siteCss,
    nav: [
      { href: '/', text: home.navTitle },
      ...home.children.filter((c) => c.inNav).map((c) => ({ href: c.path, text: c.navTitle })),
    ],
    essays,
  }
  const component = { home: HomePage, section: SectionPage, essay: EssayPage, page: StandalonePage }
  const files: BuiltFile[] = []
  for (const page of pages) {
    const Page = component[page.kind]
    files.push({
      path: page.path,
      contentType: HTML,
      body: `<!doctype html>${await (<Page ctx={ctx} page={page} />).toString()}`,
      ...(page.course ? { scripts: true } : {}),
    })
  }
  files.push(
    { path: '/feed.xml', contentType: 'application/atom+xml; charset=utf-8', body: renderFeed(site, essays) },
    { path: '/sitemap.xml', contentType: 'application/xml; charset=utf-8', body: renderSitemap(site, pages) },
    { path: '/robots.txt', contentType: 'text/plain; charset=utf-8', body: renderRobots(site) },
    { path: SIGNUP_SCRIPT_PATH, contentType: 'text/javascript; charset=utf-8', body: signupScript },
    { path: '/favicon.svg', contentType: 'image/svg+xml', body: faviconSvg },
    ...(await imageFiles(pages, site)),
    ...(await apiDocsFiles()),
    { path: OPENAPI_PATH, contentType: 'application/json; charset=utf-8', body: await openApiDocument() },
    {
      path: SEARCH_INDEX_PATH,
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify(searchIndex(essays)),
    },
  )
  files.sort((a, b) => a.path.localeCompare(b.path))
  const notFound = {
    path: '/404',
    contentType: HTML,
    body: `<!doctype html>${await (<NotFoundPage ctx={ctx} />).toString()}`,
  }
  // Every site link the emails carry, by the id their /r/ links name.
  const links = new Map<string, string>()
  const build: SiteBuild = {
    files,
    notFound,
    emails: await buildEmails(emailsDir, site),
    courses: await buildCourses(pages, site, emailsDir, links),
    broadcasts: await buildNewsletter(essays, await loadLetters(md, contentDir), site, emailsDir, links),
    links: Object.fromEntries([...links].sort(([a], [b]) => a.localeCompare(b))),
    settings: { ...site, nav: ctx.nav },
    styleSrc: hashSource(siteCss),
  }
  return { build, pages, site }
}

/** content/letters/*.md: one-off newsletter emails that are not pages (title and description required). */
async function loadLetters(md: ReturnType<typeof markdown>, contentDir: string): Promise<Letter[]> {
  const dir = join(contentDir, LETTERS_DIR)
  let files: string[]
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.md')).sort()
  } catch {
    return []
  }
  return Promise.all(
    files.map(async (f) => {
      const rel = join(LETTERS_DIR, f)
      const { data, content } = matter(await readFile(join(dir, f), 'utf8'))
      return {
        path: `/${LETTERS_DIR}/${f.replace(/\.md$/, '')}`,
        title: text(data.title, rel, 'title'),
        description: text(data.description, rel, 'description'),
        ...(data.published === undefined ? {} : { published: isoDate(data.published, rel, 'published') }),
        html: md.render(content),
      }
    }),
  )
}

/** What /search reads: every essay's title, description and plain text. */
function searchIndex(essays: PageModel[]): SearchIndex {
  const plain = (html: string) =>
    convert(html, {
      wordwrap: false,
      selectors: [
        { selector: 'a', options: { ignoreHref: true } },
        { selector: 'h2', options: { uppercase: false } },
        { selector: 'h3', options: { uppercase: false } },
        { selector: 'sup', format: 'skip' },
      ],
    })
      .replace(/\s+/g, ' ')
      .trim()
  return {
    version: 1,
    essays: essays.map((e) => ({ path: e.path, title: e.title, description: e.description, text: plain(e.html) })),
  }
}

/** Swagger UI's script and stylesheet for /api/docs, from swagger-ui-dist, and the script that starts it. */
async function apiDocsFiles(): Promise<BuiltFile[]> {
  const dist = (file: string) => readFile(createRequire(import.meta.url).resolve(`swagger-ui-dist/${file}`), 'utf8')
  // The source maps are not published: their comments would only make browsers ask for them.
  const unmapped = (code: string) => code.replace(/\n\/[*/]# sourceMappingURL=\S+( \*\/)?\s*$/, '\n')
  return [
    { path: API_DOCS_ASSETS.css, contentType: 'text/css; charset=utf-8', body: unmapped(await dist('swagger-ui.css')) },
    {
      path: API_DOCS_ASSETS.js,
      contentType: 'text/javascript; charset=utf-8',
      body: unmapped(await dist('swagger-ui-bundle.js')),
    },
    { path: API_DOCS_ASSETS.init, contentType: 'text/javascript; charset=utf-8', body: apiDocsInitScript },
  ]
}

/** Each page's share image, and the icon as favicon.ico and apple-touch-icon.png: PNG bytes in base64. */
async function imageFiles(pages: PageModel[], site: SiteSettings): Promise<BuiltFile[]> {
  const file = (path: string, contentType: string, bytes: Buffer): BuiltFile => ({
    path,
    contentType,
    body: bytes.toString('base64'),
    encoding: 'base64',
  })
  const icons = iconImages(faviconSvg, faviconColor)
  return [
    ...(await Promise.all(
      pages.map(async (p) =>
        file(shareImagePath(p.path), SHARE_IMAGE.type, await shareImage(p.title, site.name, faviconSvg)),
      ),
    )),
    file(ICONS.ico.path, ICONS.ico.contentType, icons.ico),
    file(ICONS.appleTouch.path, ICONS.appleTouch.contentType, icons.appleTouch),
  ]
}

/** Builds content/ and writes dist/site-build.json. */
export async function buildToDist(contentDir = join(root, 'content')): Promise<BuildResult> {
  const result = await buildSite(contentDir)
  await mkdir(join(root, 'dist'), { recursive: true })
  await writeFile(join(root, 'dist', 'site-build.json'), JSON.stringify(result.build))
  return result
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { build } = await buildToDist()
  const bytes = build.files.reduce((n, f) => n + Buffer.byteLength(f.body, f.encoding ?? 'utf8'), 0)
  console.log(`built ${build.files.length} files (${(bytes / 1024).toFixed(1)} KiB) into dist/site-build.json`)
}
