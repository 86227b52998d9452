/**
 * Build step (Node): compiles every email in emails/ with MJML (strict: an MJML error stops the
 * build), fills the site's own values, derives the plain-text part, and leaves only the
 * per-subscriber placeholders (`{{confirm_url}}`, …) to be filled at send time in the Worker.
 */
import { readdir, readFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { convert } from 'html-to-text'
import mjml2html from 'mjml'
import { escapeHtml } from '../src/lib/escape'
import type { EmailTemplate } from '../src/site/manifest'
import type { SiteSettings } from '../src/ui/types'

/** Gmail clips messages past about 102 KB, hiding the unsubscribe link: stay well under. */
export const EMAIL_BUDGET_BYTES = 40 * 1024
/** Past this, the build fails. */
export const EMAIL_LIMIT_BYTES = 80 * 1024

/** An email that failed to compile or breaks a rule; the message names the file. */
export class EmailBuildError extends Error {}

/** The build-time values every email may use: `{{site.name}}` and friends. */
const siteValues = (site: SiteSettings): Record<string, string> => ({
  'site.name': site.name,
  'site.url': site.baseUrl,
  'site.disclaimer': site.disclaimer,
  'site.postal_address': site.postalAddress,
})

const fillSite = (text: string, values: Record<string, string>, encode: (s: string) => string) =>
  text.replace(/\{\{(site\.[a-z_]+)\}\}/g, (m, name: string) => (values[name] === undefined ? m : encode(values[name])))

/** The plain-text part: the same words and links, without the hidden preheader. */
export function textPart(html: string): string {
  const visible = html.replace(/<div style="display:none;[^"]*">[\s\S]*?<\/div>/, '')
  return convert(visible, {
    wordwrap: 78,
    selectors: [
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'title', format: 'skip' },
      // Not upper-cased: a heading may hold a placeholder, such as {{lesson.title}}, filled at send time.
      { selector: 'h1', options: { uppercase: false } },
    ],
  }).trim()
}

/** Compiles one MJML source (with `{{site.*}}` filled) into an email template. */
export async function compileMjml(
  source: string,
  filePath: string,
  site: SiteSettings,
  includePath = dirname(filePath),
): Promise<EmailTemplate> {
  const values = siteValues(site)
  let result: Awaited<ReturnType<typeof mjml2html>>
  try {
    result = await mjml2html(source, {
      validationLevel: 'strict',
      filePath,
      // mjml 5 skips <mj-include> unless told otherwise, silently; partials live beside the emails.
      ignoreIncludes: false,
      includePath,
      fonts: {},
      keepComments: false,
    })
  } catch (err) {
    // Strict validation throws; say which file, in one line.
    throw new EmailBuildError(
      `${filePath}: ${String((err as Error).message)
        .replace(/\s+/g, ' ')
        .trim()}`,
    )
  }
  if (result.errors.length > 0)
    throw new EmailBuildError(`${filePath}: ${result.errors.map((e) => e.formattedMessage ?? e.message).join('; ')}`)
  // Filled after compiling, so partials pulled in by <mj-include> get the values too.
  const html = fillSite(result.html, values, escapeHtml)
  const subject = /<title>([\s\S]*?)<\/title>/.exec(html)?.[1]?.trim()
  if (!subject) throw new EmailBuildError(`${filePath}: <mj-title> (the subject) is missing`)
  const bytes = Buffer.byteLength(html)
  if (bytes > EMAIL_LIMIT_BYTES)
    throw new EmailBuildError(
      `${filePath}: ${(bytes / 1024).toFixed(1)} KB of HTML, over the ${EMAIL_LIMIT_BYTES / 1024} KB limit`,
    )
  return { subject: decodeEntities(subject), html, text: textPart(html) }
}

const decodeEntities = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')

/** Compiles every top-level `emails/*.mjml` (partials live in `emails/partials/`). */
export async function buildEmails(emailsDir: string, site: SiteSettings): Promise<Record<string, EmailTemplate>> {
  const files = (await readdir(emailsDir)).filter((f) => f.endsWith('.mjml')).sort()
  const emails: Record<string, EmailTemplate> = {}
  for (const file of files) {
    const path = join(emailsDir, file)
    emails[basename(file, '.mjml')] = await compileMjml(await readFile(path, 'utf8'), path, site)
  }
  return emails
}
