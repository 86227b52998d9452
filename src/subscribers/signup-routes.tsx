import type { Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { cors } from 'hono/cors'
import { Hono } from 'hono/tiny'
import * as v from 'valibot'
import { afterAnswer } from '../lib/after-answer'
import { describeRoute, json, pageRoute, problem, resolver } from '../lib/api'
import { ApiError, describeProblems, fieldProblems } from '../lib/errors'
import { mailProblem } from '../mail/config'
import type { SiteContent } from '../site/content'
import { renderPage } from '../ui/page'
import type { UTM_FIELDS } from '../ui/signup-form'
import { newsletterOf, type PublishedSettings } from '../ui/types'
import { lifecycleOf } from './lifecycle'
import { CheckInbox, Notice, SignupAgain } from './render/pages'
import { DEFAULT_COURSE, fields, ifValid, type SignupFields, signupSchema } from './schema'
import { signUp } from './signup'
import type { SignupRecord } from './store'
import { TURNSTILE_VERIFY_URL, verifyTurnstile } from './turnstile'

type Ctx = Context<{ Bindings: Env }>

/** Signup bodies are a few hundred bytes; anything much larger is not a signup. */
export const MAX_SIGNUP_BYTES = 16 * 1024
const FORM_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data']
const BODY_TYPES = ['application/json', ...FORM_TYPES]
const mediaType = (c: Ctx) => (c.req.header('Content-Type') ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
/** An API client: it posts JSON, or posts something else without asking for a page. */
const wantsJson = (c: Ctx) =>
  mediaType(c) === 'application/json' ||
  (!FORM_TYPES.includes(mediaType(c)) && !(c.req.header('Accept') ?? '').includes('text/html'))

/** Answers a refused signup: JSON for API clients, a page for people (the form again, on 400). */
async function refuse(
  c: Ctx,
  content: SiteContent,
  status: 400 | 403 | 413 | 415 | 429 | 503,
  errors: Record<string, string>,
  retry?: { values: Record<string, unknown>; courseId: string },
): Promise<Response> {
  const headers = status === 429 ? { 'Retry-After': '60' } : status === 503 ? { 'Retry-After': '120' } : undefined
  // API clients get the one error shape from app.onError; people get the form back.
  if (wantsJson(c)) throw new ApiError(status, errors, { headers })
  const message = describeProblems(errors)
  const settings = (await content.manifest(c.env.CONTENT)).settings
  const course = retry && Object.hasOwn(settings.courses, retry.courseId) ? settings.courses[retry.courseId] : undefined
  const newsletterConsent = newsletterOf(settings).consent
  const values = {
    email: String(retry?.values.email ?? ''),
    name: String(retry?.values.name ?? ''),
    newsletter: retry?.values.newsletter === newsletterConsent,
  }
  const body =
    status === 400 && course && retry ? (
      <SignupAgain
        courseId={retry.courseId}
        course={course}
        errors={errors}
        values={values}
        raw={retry.values}
        newsletterConsent={newsletterConsent}
        turnstileSiteKey={settings.turnstileSiteKey}
      />
    ) : (
      <Notice title="Your signup was not accepted">
        <p class="notice error">{message}</p>
      </Notice>
    )
  const embed = retry?.values.embed === '1' ? { framableBy: settings.signupOrigins ?? [] } : undefined
  const res = await renderPage(
    settings,
    { title: 'Sign up', description: 'Join the course.', status, withFormScript: true, embed },
    body,
  )
  if (headers) for (const [k, v] of Object.entries(headers)) res.headers.set(k, v)
  return res
}

/** The body as a flat object of its fields, without empty ones; undefined when it cannot be read. */
async function readFields(c: Ctx): Promise<Record<string, unknown> | undefined> {
  let body: unknown
  try {
    body = wantsJson(c) ? await c.req.json() : await c.req.parseBody()
  } catch {
    return undefined
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== '' && v !== null))
}

/** What the signup records, with the Referer standing in for fields a script-less form could not fill. */
function toRecord(c: Ctx, f: SignupFields, courseId: string, settings: PublishedSettings): SignupRecord {
  let ref: URL | undefined
  try {
    ref = new URL(c.req.header('Referer') ?? '')
  } catch {}
  const own = ref?.origin === new URL(c.req.url).origin
  // The Referer is a side door: what it says is kept only if the field's own rule takes it.
  const fromRef = (name: (typeof UTM_FIELDS)[number]) => ifValid(fields.utm, ref?.searchParams.get(name) ?? undefined)
  const cfZone = (c.req.raw.cf as { timezone?: string } | undefined)?.timezone
  return {
    email: f.email,
    firstName: f.name,
    course: courseId,
    timezone: f.timezone ?? cfZone ?? settings.defaultTimezone,
    source: f.source,
    referrer: f.referrer ?? (ref && !own ? ifValid(fields.referrer, ref.href) : undefined),
    landingPath: f.landing_path ?? (ref && own ? ifValid(fields.landingPath, ref.pathname) : undefined),
    utm: {
      source: f.utm_source ?? fromRef('utm_source'),
      medium: f.utm_medium ?? fromRef('utm_medium'),
      campaign: f.utm_campaign ?? fromRef('utm_campaign'),
      term: f.utm_term ?? fromRef('utm_term'),
      content: f.utm_content ?? fromRef('utm_content'),
    },
    newsletterConsent: f.newsletter,
    consent: {
      text: f.consent,
      ip: c.req.header('CF-Connecting-IP'),
      userAgent: ifValid(fields.userAgent, c.req.header('User-Agent')?.slice(0, 512)),
    },
  }
}

/**
 * POST /api/subscribe (form or JSON, the same fields) and the page a form signup lands on.
 * The answer is the same for a new, pending, active or unsubscribed address.
 */
export function signupRoutes(content: SiteContent, turnstileVerifyUrl = TURNSTILE_VERIFY_URL) {
  const app = new Hono<{ Bindings: Env }>()

  // Browsers on the listed origins may post signups (CORS); a browser on any other origin is told
  // plainly that it may not. Tools without an Origin header (servers, curl) are not browsers.
  const allowedOrigin = async (origin: string, c: Ctx) => {
    if (!origin || origin === new URL(c.req.url).origin) return origin || undefined
    const settings = (await content.manifest(c.env.CONTENT)).settings
    const own = new URL(c.env.PUBLIC_URL || settings.baseUrl).origin
    return origin === own || (settings.signupOrigins ?? []).includes(origin) ? origin : undefined
  }
  app.use(
    '/api/subscribe',
    async (c, next) => {
      const origin = c.req.header('Origin')
      if (origin && !(await allowedOrigin(origin, c)))
        throw new ApiError(403, `signups from ${origin} are not allowed; the site must list it in signupOrigins`)
      await next()
    },
    cors({ origin: allowedOrigin, allowMethods: ['POST'], allowHeaders: ['Content-Type'], maxAge: 86_400 }),
  )

  app.post(
    '/api/subscribe',
    describeRoute({
      summary: 'Sign up for a course (double opt-in); the same answer for any address',
      tags: ['signups'],
      requestBody: {
        required: true,
        content: {
          'application/json': { schema: resolver(signupSchema) },
          'application/x-www-form-urlencoded': { schema: resolver(signupSchema) },
        },
      },
      responses: {
        202: json('Accepted (JSON): check your inbox'),
        303: { description: 'Accepted (form): to the check-your-inbox page' },
        400: problem('A field is invalid; each is named (a form gets the form back)'),
        403: problem('Turnstile failed, or an origin not in signupOrigins'),
        413: problem('Body over 16 KB'),
        415: problem('Not JSON or a form'),
        429: problem('Too many signups from this client; Retry-After says when to try again'),
        503: problem('This Worker cannot send mail now'),
      },
    }),
    async (c, next) => {
      if (!BODY_TYPES.includes(mediaType(c)))
        return refuse(c, content, 415, { form: `Content-Type must be one of ${BODY_TYPES.join(', ')}` })
      await next()
    },
    bodyLimit({
      maxSize: MAX_SIGNUP_BYTES,
      onError: (c) => refuse(c, content, 413, { form: `the body is larger than ${MAX_SIGNUP_BYTES / 1024} KB` }),
    }),
    async (c) => {
      const ip = c.req.header('CF-Connecting-IP')
      if (!(await c.env.SIGNUP_LIMIT.limit({ key: ip ?? 'unknown' })).success)
        return refuse(c, content, 429, { form: 'too many signups from this address; try again in a minute' })
      const raw = await readFields(c)
      if (!raw) return refuse(c, content, 400, { form: 'the body must be a JSON object or a form' })
      const parsed = v.safeParse(signupSchema, raw)
      const retry = { values: raw, courseId: typeof raw.course === 'string' ? raw.course : DEFAULT_COURSE }
      if (!parsed.success) return refuse(c, content, 400, fieldProblems(parsed.issues), retry)
      const f = parsed.output
      if (f.website) return refuse(c, content, 400, { website: 'must be left empty' }, retry)
      const settings = (await content.manifest(c.env.CONTENT)).settings
      const courseId = f.course ?? DEFAULT_COURSE
      const course = Object.hasOwn(settings.courses, courseId) ? settings.courses[courseId] : undefined
      if (!course)
        return refuse(c, content, 400, { course: `must be one of: ${Object.keys(settings.courses).join(', ')}` })
      if (f.consent !== course.consent)
        return refuse(c, content, 400, { consent: 'must be the exact consent wording the form shows' }, retry)
      if (f.newsletter !== undefined && f.newsletter !== newsletterOf(settings).consent)
        return refuse(
          c,
          content,
          400,
          { newsletter: "must be the newsletter's exact consent wording, or absent" },
          retry,
        )
      return accept(c, f, courseId, settings)
    },
  )

  const accept = async (c: Ctx, f: SignupFields, courseId: string, settings: PublishedSettings) => {
    const ip = c.req.header('CF-Connecting-IP')
    if (c.env.TURNSTILE_SECRET) {
      const check = await verifyTurnstile(c.env.TURNSTILE_SECRET, f['cf-turnstile-response'], ip, turnstileVerifyUrl)
      if (check === 'failed')
        return refuse(c, content, 403, { 'cf-turnstile-response': 'did not pass the human check' })
      if (check === 'unavailable')
        return refuse(c, content, 503, { form: 'the human check is unavailable; try again soon' })
    }
    // Refuse now rather than queue mail that could never be sent (a deployed Worker without keys).
    const problem = mailProblem(c.env)
    if (problem) {
      console.error(`signup refused: ${problem}`)
      return refuse(c, content, 503, { form: 'signups are closed for maintenance; please try again later' })
    }
    // A suppressed address is never stored or mailed again (the lifecycle checks), and the answer
    // does not say so. The confirmation and the event are committed with the signup; the doorbell
    // that hands them to the queue runs after the answer.
    await signUp(lifecycleOf(c.env), c.env.MAIL, toRecord(c, f, courseId, settings), Date.now(), afterAnswer(c))
    if (wantsJson(c))
      return c.json({ status: 'accepted', message: 'Check your inbox to confirm your subscription.' }, 202)
    return c.redirect(f.embed ? '/embed/thanks' : '/subscribe/check-your-inbox', 303)
  }

  app.on(['GET', 'PUT', 'DELETE', 'PATCH'], '/api/subscribe', () => {
    throw new ApiError(405, 'use POST to sign up', { headers: { Allow: 'POST' } })
  })

  app.get('/subscribe/check-your-inbox', pageRoute('After a form signup: check your inbox'), async (c) => {
    const settings = (await content.manifest(c.env.CONTENT)).settings
    return renderPage(
      settings,
      { title: 'Check your inbox', description: 'Confirm your subscription.' },
      <CheckInbox />,
    )
  })

  return app
}
