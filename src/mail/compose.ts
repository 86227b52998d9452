import type { EmailTemplate } from '../site/manifest'
import type { SiteSettings } from '../ui/types'
import { fillTemplate, headerSafe, type Placeholders } from './fill'
import type { OutgoingEmail } from './mailer'

/** What every email to a subscriber needs beside its template. */
export interface Recipient {
  to: string
  from: string
  /** The one-click unsubscribe link (RFC 8058): in the body and in the headers. */
  unsubscribeUrl: string
  /** The list the email belongs to (RFC 2919 List-Id), and where replies go; see {@link listOf}. */
  list?: MailingList
}

/** One topic's list: its List-Id, and the reply address that also takes unsubscribe requests. */
export interface MailingList {
  /** `Name <id.example.com>` */
  id: string
  replyTo?: string
}

/** The bare address of `Name <a@b>` or `a@b`. */
const bareAddress = (from: string) => /<([^<>]+)>\s*$/.exec(from)?.[1] ?? from.trim()

/**
 * A topic's list, named under the site's own domain (RFC 2919): `The cure back pain program
 * <cure-back-pain-program.spine-exercises.example.com>`. Mail clients group and filter by it.
 */
export function listOf(settings: Pick<SiteSettings, 'baseUrl' | 'replyTo'>, topic: string, name: string): MailingList {
  const host = new URL(settings.baseUrl).hostname
  const label = topic.toLowerCase().replace(/[^a-z0-9-]+/g, '-')
  const phrase = headerSafe(name).replace(/["\\<>]/g, '')
  return { id: `"${phrase}" <${label}.${host}>`, ...(settings.replyTo ? { replyTo: settings.replyTo } : {}) }
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
  const headers: Record<string, string> = {
    // RFC 8058: the https link first (clients POST to it); a mailto for clients that only write mail,
    // its subject naming the same signed link for whoever reads the reply address.
    'List-Unsubscribe': r.list?.replyTo
      ? `<${r.unsubscribeUrl}>, <mailto:${bareAddress(r.list.replyTo)}?subject=${encodeURIComponent(`unsubscribe ${r.unsubscribeUrl}`)}>`
      : `<${r.unsubscribeUrl}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  }
  if (r.list) headers['List-Id'] = r.list.id
  return {
    from: r.from,
    to: r.to,
    subject: filled.subject,
    html: filled.html,
    text: filled.text,
    headers,
    tags,
    ...(r.list?.replyTo ? { replyTo: r.list.replyTo } : {}),
  }
}
