import { greeting, subscriberEmail } from '../mail/compose'
import type { MailContext } from '../mail/config'
import { fillTemplate } from '../mail/fill'
import type { SendOutcome } from '../mail/mailer'
import type { EmailTemplate } from '../site/manifest'
import { newsletterOf } from '../ui/types'

/** What a marketer asks to see in their own inbox. */
export interface TestSend {
  to: string
  email: 'confirmation' | 'lesson' | 'course-complete'
  course: string
  lesson?: number
}

/**
 * Sample values for every placeholder an email may have, as previews and test sends show them:
 * links lead to the site but carry no valid token.
 */
export function sampleValues(origin: string, settings: MailContext['settings'], course: string, name = 'Anna') {
  const example = `${origin}/test-link`
  const coursePath = settings.courses[course]?.path
  return {
    greeting: greeting(name),
    course_title: settings.courses[course]?.title ?? settings.name,
    newsletter_title: newsletterOf(settings).title,
    confirm_url: `${example}/confirm`,
    preferences_url: `${example}/preferences`,
    unsubscribe_url: `${example}/unsubscribe`,
    site_url: origin,
    next_when: 'in a few days',
    web_url: coursePath ? `${origin}${coursePath}` : origin,
    campaign: 'sample',
    // Not a signed token: the link still leads to its page, and no click is recorded.
    click: 'sample',
  }
}

/** A compiled email filled with sample values (the dashboard's previews). */
export const sampleFilled = (
  template: EmailTemplate,
  origin: string,
  settings: MailContext['settings'],
  course: string,
) => fillTemplate(template, sampleValues(origin, settings, course))

/**
 * Sends one email as a subscriber would get it, to a marketer's address, with example links (they
 * lead to the site but carry no valid token) and "[Test]" before the subject.
 */
export async function sendTest(
  ctx: MailContext,
  template: EmailTemplate,
  t: TestSend,
): Promise<SendOutcome & { subject: string }> {
  const values = sampleValues(ctx.origin, ctx.settings, t.course, 'Test')
  const email = subscriberEmail(
    { ...template, subject: `[Test] ${template.subject}` },
    values,
    { to: t.to, from: ctx.from, unsubscribeUrl: values.unsubscribe_url },
    [{ name: 'type', value: 'test' }],
  )
  const [outcome] = await ctx.mailer.sendEach([{ email, idempotencyKey: `test-${crypto.randomUUID()}` }])
  // The subject as it went out, its placeholders filled.
  return { ...(outcome as SendOutcome), subject: email.subject }
}
