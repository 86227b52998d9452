/**
 * One schema per field of a subscriber, whatever the door it comes through: the signup form and
 * its JSON twin, the Referer fallback, the preferences page and the CSV import all check a name, an
 * address or a UTM value with the same rule. The OpenAPI document is made from these schemas.
 */
import * as v from 'valibot'

/** The program readers join when a signup names none. */
export const DEFAULT_COURSE = 'cure-back-pain-program'

/** Line breaks, NUL and other control characters, and the bidi controls that reorder what a marketer reads. */
const CONTROL = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u

/** "is required" when absent, "must be text" when it is a number, a list or a file. */
const text = (absent = 'is required') => v.string((issue) => (issue.input === undefined ? absent : 'must be text'))

const atMost = (max: number) => v.maxLength<string, number, string>(max, `must be at most ${max} characters`)
const emptyIsAbsent = v.transform((s: string) => (s === '' ? undefined : s))

/** True when the runtime knows `tz` as an IANA time zone (aliases such as `US/Pacific` too). */
function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

/** Free text on one line: trimmed, bounded; empty means absent. */
const line = (max: number) =>
  v.optional(
    v.pipe(
      text(),
      v.trim(),
      atMost(max),
      v.check((s) => !CONTROL.test(s), 'must be one line of text'),
      emptyIsAbsent,
    ),
  )

/** A course's id, as content/site.json names it. */
export const courseId = v.pipe(
  text(),
  v.trim(),
  atMost(64),
  v.regex(/^[\w-]*$/, 'may contain only letters, digits, _ and -'),
)

/** The fields of a subscriber, each with its one rule. */
export const fields = {
  email: v.pipe(text(), v.trim(), v.minLength(1, 'is required'), atMost(254), v.email('must be a valid email address')),
  name: v.optional(
    v.pipe(
      text(),
      v.trim(),
      atMost(50),
      v.regex(/^[\p{L}\p{M}' .-]*$/u, 'may contain only letters, spaces, apostrophes, dots and hyphens'),
      emptyIsAbsent,
    ),
  ),
  timezone: v.optional(
    v.pipe(
      text(),
      v.trim(),
      atMost(64),
      v.check((s) => s === '' || isTimeZone(s), 'must be an IANA time zone such as Europe/London'),
      emptyIsAbsent,
    ),
  ),
  source: v.optional(
    v.pipe(
      text(),
      v.trim(),
      atMost(64),
      v.regex(/^[\w.:/-]*$/, 'may contain only letters, digits and . : / _ -'),
      emptyIsAbsent,
    ),
  ),
  utm: line(200),
  course: v.optional(v.pipe(courseId, emptyIsAbsent)),
  landingPath: v.optional(
    v.pipe(
      text(),
      atMost(2048),
      v.regex(/^(\/|https?:\/\/)\S*$/, 'must be a path starting with / or, from an embedded form, an http(s) URL'),
    ),
  ),
  referrer: v.optional(
    v.pipe(
      text(),
      atMost(2048),
      v.url('must be an http(s) URL'),
      v.check((s) => /^https?:\/\//i.test(s), 'must be an http(s) URL'),
    ),
  ),
  consent: v.pipe(text('is required: tick the box to agree'), atMost(1000)),
  /** The newsletter's consent: optional, its exact wording when given. */
  newsletterConsent: v.optional(v.pipe(text(), atMost(1000), emptyIsAbsent)),
  userAgent: line(512),
}

/** The one message of a strict object: unknown fields and missing ones, each named. */
export const strictMessage = (issue: v.StrictObjectIssue | v.ObjectIssue) =>
  issue.expected === 'never'
    ? 'is not a field this endpoint accepts'
    : issue.input === undefined && issue.path
      ? 'is required'
      : 'must be a JSON object or a form'

/**
 * One signup, as a form post or as JSON (the same field names). Unknown fields are refused, so a
 * typo in an integration shows up at once instead of losing data.
 */
export const signupSchema = v.pipe(
  v.strictObject(
    {
      email: fields.email,
      name: fields.name,
      consent: fields.consent,
      /** "Also email me new essays": the newsletter's exact consent wording, to join it too. */
      newsletter: fields.newsletterConsent,
      timezone: fields.timezone,
      source: fields.source,
      utm_source: fields.utm,
      utm_medium: fields.utm,
      utm_campaign: fields.utm,
      utm_term: fields.utm,
      utm_content: fields.utm,
      course: fields.course,
      landing_path: fields.landingPath,
      /** Posted by the embeddable form, whose answers stay in its frame. */
      embed: v.optional(v.literal('1', 'must be 1 when present')),
      referrer: fields.referrer,
      /** The honeypot: people never see it, so anything in it came from a bot. */
      website: v.optional(v.pipe(text(), atMost(1000))),
      'cf-turnstile-response': v.optional(v.pipe(text(), atMost(4096))),
    },
    strictMessage,
  ),
  v.metadata({ ref: 'Signup' }),
)

/** A signup that passed the schema. */
export type SignupFields = v.InferOutput<typeof signupSchema>

/** What the preferences page's buttons do. */
export const PREFERENCE_ACTIONS = [
  'save',
  'pause',
  'resume',
  'restart',
  'leave-course',
  'join-course',
  'join-newsletter',
  'leave-newsletter',
  'unsubscribe-all',
] as const

/** What a subscriber may change on their preferences page. */
export const preferencesSchema = v.pipe(
  v.strictObject(
    {
      action: v.picklist(PREFERENCE_ACTIONS, `must be one of: ${PREFERENCE_ACTIONS.join(', ')}`),
      name: fields.name,
      timezone: fields.timezone,
    },
    strictMessage,
  ),
  v.metadata({ ref: 'Preferences' }),
)

/** A value from a side door (the Referer), kept only if the field's own rule takes it. */
export function ifValid<S extends v.GenericSchema>(schema: S, value: unknown): v.InferOutput<S> | undefined {
  const result = v.safeParse(schema, value)
  return result.success ? result.output : undefined
}
