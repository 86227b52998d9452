import type { Subscriber } from '../subscribers/store'

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

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
})

/** The CSV export's columns, in order. */
export const CSV_COLUMNS = [
  'id',
  'email',
  'first_name',
  'status',
  'course',
  'timezone',
  'lessons_received',
  'source',
  'referrer',
  'landing_path',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'consent_at',
  'consent_ip',
  'consent_user_agent',
  'consent_text',
  'created_at',
  'confirmed_at',
  'unsubscribed_at',
] as const

/**
 * One CSV field (RFC 4180 quoting). A value that a spreadsheet would run as a formula (=, +, -, @,
 * tab, CR) is prefixed with an apostrophe: a subscriber's name must never become a formula.
 */
export function csvField(value: unknown): string {
  let text = value === null || value === undefined ? '' : String(value)
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** One subscriber as a CSV line. */
export function csvLine(s: Subscriber): string {
  const p = presentSubscriber(s)
  const row: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    ...p,
    consent_at: p.consent.at,
    consent_ip: p.consent.ip,
    consent_user_agent: p.consent.user_agent,
    consent_text: p.consent.text,
  }
  return `${CSV_COLUMNS.map((c) => csvField(row[c])).join(',')}\r\n`
}
