import { z } from 'zod'

/** The program readers join when a signup names none. */
export const DEFAULT_COURSE = 'cure-back-pain-program'

const CONTROL = /[\p{Cc}\u2028\u2029]/u

/** "is required" when absent, "must be text" when it is a number, a list or a file. */
const requiredText = (absent: string) => ({
  error: (issue: { input: unknown }) => (issue.input === undefined ? absent : 'must be text'),
})

/** Free text from a form: trimmed, bounded, one line; empty means absent. */
const line = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `must be at most ${max} characters`)
    .refine((v) => !CONTROL.test(v), 'must be one line of text')
    .transform((v) => (v === '' ? undefined : v))
    .optional()

/** True when the runtime knows `tz` as an IANA time zone (aliases such as `US/Pacific` too). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

const timezone = z
  .string()
  .trim()
  .max(64, 'must be at most 64 characters')
  .refine((v) => v === '' || isTimeZone(v), 'must be an IANA time zone such as Europe/London')
  .transform((v) => (v === '' ? undefined : v))
  .optional()

const firstName = z
  .string()
  .trim()
  .max(50, 'must be at most 50 characters')
  .regex(/^[\p{L}\p{M}' .-]*$/u, 'may contain only letters, spaces, apostrophes, dots and hyphens')
  .transform((v) => (v === '' ? undefined : v))
  .optional()

/**
 * One signup, as a form post or as JSON (the same field names). Unknown fields are refused, so a
 * typo in an integration shows up at once instead of losing data.
 */
export const signupSchema = z.strictObject({
  email: z
    .string(requiredText('is required'))
    .trim()
    .min(1, 'is required')
    .max(254, 'must be at most 254 characters')
    .pipe(z.email('must be a valid email address')),
  name: firstName,
  consent: z.string(requiredText('is required: tick the box to agree')).max(1000, 'must be at most 1000 characters'),
  timezone,
  source: z
    .string()
    .trim()
    .max(64, 'must be at most 64 characters')
    .regex(/^[\w.:/-]*$/, 'may contain only letters, digits and . : / _ -')
    .transform((v) => (v === '' ? undefined : v))
    .optional(),
  utm_source: line(200),
  utm_medium: line(200),
  utm_campaign: line(200),
  utm_term: line(200),
  utm_content: line(200),
  course: z
    .string()
    .trim()
    .max(64, 'must be at most 64 characters')
    .transform((v) => (v === '' ? undefined : v))
    .optional(),
  landing_path: z
    .string()
    .max(2048, 'must be at most 2048 characters')
    .regex(/^(\/|https?:\/\/)\S*$/, 'must be a path starting with / or, from an embedded form, an http(s) URL')
    .optional(),
  /** Posted by the embeddable form, whose answers stay in its frame. */
  embed: z.literal('1', { error: 'must be 1 when present' }).optional(),
  referrer: z
    .string()
    .max(2048, 'must be at most 2048 characters')
    .pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }))
    .optional(),
  /** The honeypot: people never see it, so anything in it came from a bot. */
  website: z.string().max(1000).optional(),
  'cf-turnstile-response': z.string().max(4096).optional(),
})

/** A signup that passed the schema. */
export type SignupFields = z.infer<typeof signupSchema>

/** What a subscriber may change on their preferences page. */
export const preferencesSchema = z.strictObject({
  action: z.enum(['save', 'pause', 'resume', 'restart'], { error: 'must be save, pause, resume or restart' }),
  name: firstName,
  timezone,
})

/** The first problem of each field, keyed by field name (`form` for the object itself). */
export function fieldErrors(error: { issues: readonly z.core.$ZodIssue[] }): Record<string, string> {
  // No prototype: a field named "__proto__" is reported like any other.
  const out: Record<string, string> = Object.create(null)
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out[key] ??= 'is not a field this endpoint accepts'
      continue
    }
    const field = issue.path.length > 0 ? String(issue.path[0]) : 'form'
    out[field] ??= issue.message
  }
  return out
}
