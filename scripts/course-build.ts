/**
 * Build step (Node): the courses' lessons, cut from the essays themselves (one per part: the
 * opening, then each `##` section), so the site and the course never drift apart. Each lesson is
 * compiled from emails/course/lesson.mjml with its part's HTML; links to the site get UTM tags.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { escapeHtml } from '../src/lib/escape'
import type { EmailTemplate } from '../src/site/manifest'
import type { EssayPart, PageModel, SiteSettings } from '../src/ui/types'
import { compileMjml, EmailBuildError } from './email-build'

/** One lesson: its email, and where it can be read on the web. */
export interface LessonEmail extends EmailTemplate {
  title: string
  webPath: string
}

/** The emails of one course. */
export interface CourseBuild {
  lessons: LessonEmail[]
}

/** Every site link the build put in an email: its id in /r/ links, and the tagged path it leads to. */
export type LinkTable = Map<string, string>

/**
 * A site path with the email's UTM tags, so analytics can tell the course's readers apart. A
 * placeholder as the campaign (a broadcast's id, known only when it is sent) stays a placeholder.
 */
export function taggedPath(site: SiteSettings, href: string, campaign: string, content: string): string {
  const url = new URL(href, 'https://site.invalid')
  url.searchParams.set('utm_source', site.utmSource)
  url.searchParams.set('utm_medium', 'email')
  url.searchParams.set('utm_campaign', campaign)
  url.searchParams.set('utm_content', content)
  const query = url.search.replace(/%7B%7B([a-z_]+)%7D%7D/g, '{{$1}}')
  return `${url.pathname}${query}${url.hash}`
}

/**
 * An email's link into the site: through `/r/` on our own domain, which counts the click (the
 * `{{click}}` token, signed per reader and email at send time) and redirects to the tagged path.
 * Only the links listed in `links` redirect anywhere, so `/r/` is never an open redirect. Its origin
 * is `{{site_url}}`, filled at send time with the Worker's PUBLIC_URL.
 */
export function trackedUrl(links: LinkTable, site: SiteSettings, href: string, campaign: string, content: string) {
  const target = taggedPath(site, href, campaign, content)
  const id = createHash('sha256').update(target).digest('base64url').slice(0, 12)
  links.set(id, target)
  return `{{site_url}}/r/{{click}}/${id}`
}

/** Tracked links in a part's HTML (its relative links point into the site). */
export const tagLinks = (links: LinkTable, html: string, site: SiteSettings, campaign: string, content: string) =>
  html.replace(
    /href="(\/[^"]*)"/g,
    (_, href: string) =>
      `href="${escapeHtml(trackedUrl(links, site, href.replace(/&amp;/g, '&'), campaign, content))}"`,
  )

export const firstWords = (html: string, max: number) => {
  const text = html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&[a-z#0-9]+;/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  return text.length <= max ? text : `${text.slice(0, text.lastIndexOf(' ', max))}…`
}

interface LessonInput {
  essay: PageModel
  part: EssayPart
  number: number
  count: number
  next?: EssayPart
}

function lessonValues(
  links: LinkTable,
  site: SiteSettings,
  course: string,
  title: string,
  x: LessonInput,
): Record<string, string> {
  const webPath = `${x.essay.path}${x.part.id ? `#${x.part.id}` : ''}`
  const intro =
    x.part.intro ?? (x.number === 1 ? `welcome to ${title}. Here is your first lesson.` : 'here is your next lesson.')
  // When it comes is known only at send time: the schedule skips weekends, in the reader's time zone.
  const next = x.next
    ? `Next: lesson ${x.number + 1}, “${x.next.title}”, {{next_when}}.`
    : `That was the last lesson of ${title}.`
  return {
    'lesson.subject': escapeHtml(x.part.subject ?? `Lesson ${x.number} of ${x.count}: ${x.part.title}`),
    'lesson.preheader': escapeHtml(firstWords(x.part.html, 110)),
    'lesson.number': String(x.number),
    'lesson.count': String(x.count),
    'lesson.title': escapeHtml(x.part.title),
    'lesson.intro': escapeHtml(intro),
    // Trusted: built from our own Markdown with raw HTML disabled.
    'lesson.body': tagLinks(links, x.part.html, site, course, `lesson-${x.number}`),
    'lesson.web_url': escapeHtml(trackedUrl(links, site, webPath, course, `lesson-${x.number}`)),
    'lesson.next': escapeHtml(next),
  }
}

/** Builds every course's lessons from the essays that name it in their front matter. */
export async function buildCourses(
  pages: PageModel[],
  site: SiteSettings,
  emailsDir: string,
  links: LinkTable,
): Promise<Record<string, CourseBuild>> {
  const templatePath = join(emailsDir, 'course', 'lesson.mjml')
  const template = await readFile(templatePath, 'utf8')
  const courses: Record<string, CourseBuild> = {}
  for (const [course, settings] of Object.entries(site.courses)) {
    const essays = pages.filter((p) => p.kind === 'essay' && p.course === course).sort((a, b) => a.order - b.order)
    const parts = essays.flatMap((essay) => essay.parts.map((part) => ({ essay, part })))
    if (parts.length === 0) throw new EmailBuildError(`course ${course}: no essay names it in its front matter`)
    const lessons: LessonEmail[] = []
    for (const [i, { essay, part }] of parts.entries()) {
      const values = lessonValues(links, site, course, settings.title, {
        essay,
        part,
        number: i + 1,
        count: parts.length,
        next: parts[i + 1]?.part,
      })
      const source = template.replace(/\{\{(lesson\.[a-z_]+)\}\}/g, (m, name: string) => values[name] ?? m)
      const compiled = await compileMjml(source, templatePath, site, emailsDir)
      lessons.push({ ...compiled, title: part.title, webPath: `${essay.path}${part.id ? `#${part.id}` : ''}` })
    }
    courses[course] = { lessons }
  }
  return courses
}
