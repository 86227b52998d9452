import { escapeHtml } from '../lib/escape'
import type { EmailTemplate } from '../site/manifest'

/** The values of one email's placeholders. */
export type Placeholders = Record<string, string>

const PLACEHOLDER = /\{\{([a-z_]+)\}\}/g

/** A template used a placeholder nobody filled: a bug in the template or its caller. */
export class MissingPlaceholderError extends Error {}

function fill(template: string, values: Placeholders, encode: (v: string) => string): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const value = values[name]
    if (value === undefined) throw new MissingPlaceholderError(`email placeholder {{${name}}} has no value`)
    return encode(value)
  })
}

/** A header value with no line breaks: nothing a subscriber typed can start a header of its own. */
export const headerSafe = (value: string) => value.replace(/[\r\n\u2028\u2029]+/g, ' ').trim()

/**
 * Fills a compiled email for one recipient: HTML-escaped in the HTML part, as is in the text part,
 * on one line in the subject.
 */
export function fillTemplate(template: EmailTemplate, values: Placeholders): EmailTemplate {
  return {
    subject: headerSafe(fill(template.subject, values, (v) => v)),
    html: fill(template.html, values, escapeHtml),
    text: fill(template.text, values, (v) => v),
  }
}
