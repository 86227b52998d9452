/**
 * Build step (Node): the newsletter's emails, one per essay (unless its front matter says
 * `newsletter: false`) and one per letter in content/letters/. Each is compiled from
 * emails/newsletter/essay.mjml like the lessons; only the reader's values ({{greeting}}, the
 * signed links) and the broadcast's ({{campaign}}) are filled at send time.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { escapeHtml } from '../src/lib/escape'
import type { BroadcastInfo, EmailTemplate } from '../src/site/manifest'
import { newsletterOf, type PageModel, type SiteSettings } from '../src/ui/types'
import { firstWords, type LinkTable, tagLinks, trackedUrl } from './course-build'
import { compileMjml } from './email-build'

/** A letter: a one-off email written in Markdown, not published as a page. */
export interface Letter {
  path: string
  title: string
  description: string
  /** YYYY-MM-DD when the front matter gives one. */
  published?: string
  html: string
}

/** Filled per broadcast at send time: its id, as the links' utm_campaign. */
const CAMPAIGN = '{{campaign}}'

/** Builds the newsletter's email of every essay and letter, by path. */
export async function buildNewsletter(
  essays: PageModel[],
  letters: Letter[],
  site: SiteSettings,
  emailsDir: string,
  links: LinkTable,
): Promise<Record<string, EmailTemplate & BroadcastInfo>> {
  const templatePath = join(emailsDir, 'newsletter', 'essay.mjml')
  const template = await readFile(templatePath, 'utf8')
  const settings = newsletterOf(site)
  const out: Record<string, EmailTemplate & BroadcastInfo> = {}
  const compile = async (values: Record<string, string>) => {
    const source = template.replace(/\{\{(letter\.[a-z_]+)\}\}/g, (m, name: string) => values[name] ?? m)
    return compileMjml(source, templatePath, site, emailsDir)
  }
  for (const essay of essays.filter((e) => e.newsletter)) {
    const opening = essay.parts[0]?.html ?? ''
    const body = settings.wholeEssay ? essay.html : opening
    const readUrl = trackedUrl(links, site, essay.path, CAMPAIGN, 'read-essay')
    const compiled = await compile({
      'letter.subject': escapeHtml(essay.title),
      'letter.preheader': escapeHtml(essay.description),
      'letter.kicker': escapeHtml(`New essay · ${essay.readingMinutes} min read`),
      'letter.title': escapeHtml(essay.title),
      // Trusted: built from our own Markdown with raw HTML disabled.
      'letter.body': tagLinks(links, body, site, CAMPAIGN, 'essay-link'),
      'letter.button': `<mj-button css-class="button" href="${escapeHtml(readUrl)}" align="left" padding="8px 24px 16px">Read the whole essay</mj-button>`,
    })
    out[essay.path] = {
      ...compiled,
      kind: 'essay',
      title: essay.title,
      description: essay.description,
      published: essay.published,
    }
  }
  for (const letter of letters) {
    const compiled = await compile({
      'letter.subject': escapeHtml(letter.title),
      'letter.preheader': escapeHtml(letter.description || firstWords(letter.html, 110)),
      'letter.kicker': escapeHtml(settings.title),
      'letter.title': escapeHtml(letter.title),
      'letter.body': tagLinks(links, letter.html, site, CAMPAIGN, 'letter-link'),
      'letter.button': '',
    })
    out[letter.path] = {
      ...compiled,
      kind: 'letter',
      title: letter.title,
      description: letter.description,
      published: letter.published ?? '',
    }
  }
  return out
}
