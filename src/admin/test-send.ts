import { greeting, subscriberEmail } from '../mail/compose'
import type { MailContext } from '../mail/config'
import type { SendOutcome } from '../mail/mailer'
import type { EmailTemplate } from '../site/manifest'

/** What a marketer asks to see in their own inbox. */
export interface TestSend {
  to: string
  email: 'confirmation' | 'lesson' | 'course-complete'
  course: string
  lesson?: number
}

/**
 * Sends one email as a subscriber would get it, to a marketer's address, with example links (they
 * lead to the site but carry no valid token) and "[Test]" before the subject.
 */
export async function sendTest(
  ctx: MailContext,
  template: EmailTemplate,
  t: TestSend,
): Promise<SendOutcome & { subject: string }> {
  const example = `${ctx.origin}/test-link`
  const email = subscriberEmail(
    { ...template, subject: `[Test] ${template.subject}` },
    {
      greeting: greeting('Test'),
      course_title: ctx.settings.courses[t.course]?.title ?? ctx.settings.name,
      confirm_url: `${example}/confirm`,
      preferences_url: `${example}/preferences`,
      site_url: ctx.origin,
      next_when: 'in a few days',
      web_url: ctx.settings.courses[t.course]?.path
        ? `${ctx.origin}${ctx.settings.courses[t.course]?.path}`
        : ctx.origin,
    },
    { to: t.to, from: ctx.from, unsubscribeUrl: `${example}/unsubscribe` },
    [{ name: 'type', value: 'test' }],
  )
  const [outcome] = await ctx.mailer.sendEach([{ email, idempotencyKey: `test-${crypto.randomUUID()}` }])
  // The subject as it went out, its placeholders filled.
  return { ...(outcome as SendOutcome), subject: email.subject }
}
