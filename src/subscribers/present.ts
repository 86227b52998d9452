import type { Subscriber } from './store'

/** A time kept in epoch ms, as the admin API shows every time: ISO 8601 in UTC. */
export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** A subscriber as the admin API shows it: dates in ISO 8601, consent evidence together. */
export const presentSubscriber = (s: Subscriber) => ({
  id: s.id,
  email: s.email,
  first_name: s.first_name,
  status: s.status,
  course: s.course,
  timezone: s.timezone,
  lessons_received: s.lesson_position,
  next_lesson_at: iso(s.next_send_at),
  source: s.source,
  referrer: s.referrer,
  landing_path: s.landing_path,
  utm_source: s.utm_source,
  utm_medium: s.utm_medium,
  utm_campaign: s.utm_campaign,
  utm_term: s.utm_term,
  utm_content: s.utm_content,
  consent: { at: iso(s.consent_at), ip: s.consent_ip, user_agent: s.consent_user_agent, text: s.consent_text },
  created_at: iso(s.created_at),
  confirmed_at: iso(s.confirmed_at),
  unsubscribed_at: iso(s.unsubscribed_at),
  newsletter: s.newsletter ?? 'none',
  newsletter_consent:
    s.newsletter_consent_text == null
      ? null
      : {
          at: iso(s.newsletter_consent_at),
          ip: s.newsletter_consent_ip,
          user_agent: s.newsletter_consent_user_agent,
          text: s.newsletter_consent_text,
        },
  newsletter_joined_at: iso(s.newsletter_joined_at ?? null),
  newsletter_left_at: iso(s.newsletter_left_at ?? null),
})

/**
 * An outbound event's data: the subscriber as the admin API shows them, without the consent
 * evidence (IP, user agent). An erasure's event names the id alone.
 */
export function eventData(row: Record<string, unknown>): Record<string, unknown> {
  // A full row, as the lifecycle writes it; anything else (an erasure's id) goes as it is.
  if (!('lesson_position' in row)) return row
  const {
    consent: _,
    newsletter_consent: __,
    ...data
  } = presentSubscriber({ consent_at: null, ...row } as unknown as Subscriber)
  return data
}
