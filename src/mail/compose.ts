import type { EmailTemplate } from '../site/manifest'
import { fillTemplate, type Placeholders } from './fill'
import type { OutgoingEmail } from './mailer'

/** What every email to a subscriber needs beside its template. */
export interface Recipient {
  to: string
  from: string
  /** The one-click unsubscribe link (RFC 8058): in the body and in the headers. */
  unsubscribeUrl: string
}

/** "Hi Anna," or "Hello," when no name was given. */
export const greeting = (firstName: string | null | undefined) => (firstName ? `Hi ${firstName},` : 'Hello,')

/**
 * An email to one subscriber: the template filled (escaped for HTML), a text part, and the
 * List-Unsubscribe headers that let mail clients unsubscribe in one click.
 */
export function subscriberEmail(
  template: EmailTemplate,
  values: Placeholders,
  r: Recipient,
  tags: { name: string; value: string }[] = [],
): OutgoingEmail {
  const filled = fillTemplate(template, { ...values, unsubscribe_url: r.unsubscribeUrl })
  return {
    from: r.from,
    to: r.to,
    subject: filled.subject,
    html: filled.html,
    text: filled.text,
    headers: {
      'List-Unsubscribe': `<${r.unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
    tags,
  }
}
