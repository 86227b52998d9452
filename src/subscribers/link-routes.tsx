import type { Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { createMiddleware } from 'hono/factory'
import type { Child } from 'hono/jsx'
import { Hono } from 'hono/tiny'
import * as v from 'valibot'
import { afterAnswer } from '../lib/after-answer'
import { describeRoute, page as pageSpec, resolver } from '../lib/api'
import { fieldProblems } from '../lib/errors'
import { type CourseSchedule, movedToZone } from '../lib/schedule'
import { type TokenPurpose, verifyToken } from '../lib/tokens'
import { ring } from '../mail/relay'
import { type SiteContent, unavailable } from '../site/content'
import { renderPage } from '../ui/page'
import { newsletterOf } from '../ui/types'
import { recordClick } from './clicks'
import * as lifecycle from './lifecycle'
import { lifecycleOf } from './lifecycle'
import { subscriberLinks } from './links'
import {
  Confirmed,
  type ConfirmedState,
  ConfirmPrompt,
  Ended,
  type Leaving,
  LinkProblem,
  NewsletterConfirmed,
  Preferences,
  Stayed,
  StayPrompt,
  Unsubscribed,
  UnsubscribePrompt,
} from './render/pages'
import { fields, ifValid, type PREFERENCE_ACTIONS, preferencesSchema } from './schema'
import * as store from './store'

type LinkEnv = {
  Bindings: Env
  Variables: { subscriberId: string; round: number | undefined; topic: lifecycle.Topic }
}
type Ctx = Context<LinkEnv>

/** What every page behind an email's link may answer. */
const linkSpec = (summary: string, responses: Record<number, unknown> = {}) => ({
  summary,
  tags: ['links in emails'],
  responses: {
    200: pageSpec('The page'),
    400: pageSpec('A malformed link, or bad input'),
    403: pageSpec('A forged, altered, expired or misdirected link'),
    413: pageSpec('Body too large'),
    ...responses,
  },
})
const link = (summary: string, responses: Record<number, unknown> = {}) => describeRoute(linkSpec(summary, responses))

const ENDED: store.SubscriberStatus[] = ['unsubscribed', 'bounced', 'complained']

/**
 * The pages behind the links in emails. Each checks its signed token first; a forged, altered,
 * expired or misdirected token gets a clear page (400 or 403) and changes nothing.
 */
export function linkRoutes(content: SiteContent) {
  const app = new Hono<LinkEnv>()

  /**
   * A page in the site's layout. These pages answer changes already made (an unsubscribe is done
   * before this runs), so if the published layout cannot be read they still answer, in plain text.
   */
  const page = async (c: Ctx, title: string, body: Child, status = 200) => {
    let settings: Awaited<ReturnType<SiteContent['manifest']>>['settings']
    try {
      settings = (await content.manifest(c.env.CONTENT)).settings
    } catch {
      return c.text(`${title}.\n`, status as 200, { 'Cache-Control': 'no-store' })
    }
    return renderPage(settings, { title, description: title, status }, body)
  }
  const courseTitle = async (c: Ctx, course: string) => {
    try {
      return (await content.manifest(c.env.CONTENT)).settings.courses[course]?.title ?? 'the course'
    } catch {
      return 'the course'
    }
  }

  /** Middleware: the token of `:token` must be valid for `purpose`. */
  const signed = (purpose: TokenPurpose) =>
    createMiddleware<LinkEnv>(async (c, next) => {
      if (!c.env.SIGNING_KEY) throw unavailable('SIGNING_KEY is not set')
      const check = await verifyToken(c.env.SIGNING_KEY, purpose, c.req.param('token') ?? '', Date.now())
      if (!check.ok)
        return page(
          c,
          'This link does not work',
          <LinkProblem problem={check.problem} />,
          check.problem === 'malformed' ? 400 : 403,
        )
      c.set('subscriberId', check.subscriberId)
      c.set('round', check.round)
      // An unsubscribe link names the topic it leaves; one without (older lesson links) leaves the course.
      c.set('topic', check.topic === 'newsletter' || check.topic === 'all' ? check.topic : 'course')
      await next()
    })

  const small = bodyLimit({ maxSize: 4096, onError: (c) => c.text('The body is too large.\n', 413) })

  /** The page of a confirm link: a link from an earlier signup (another round) is refused. */
  /** The confirm link's page: the prompt (GET of a pending signup), or what confirming came to. */
  const confirmPage = async (
    c: Ctx,
    s: store.Subscriber | undefined,
    prompt: boolean,
    confirmedNow: false | 'course' | 'newsletter' = false,
  ) => {
    if (!s || ENDED.includes(s.status)) return page(c, 'Subscription ended', <Ended />, s ? 200 : 404)
    if (s.course_round !== c.get('round'))
      return page(c, 'This link does not work', <LinkProblem problem="stale" />, 409)
    const title = await courseTitle(c, s.course)
    if (s.status === 'pending')
      return page(c, 'Confirm your subscription', <ConfirmPrompt courseTitle={title} />, prompt ? 200 : 409)
    const links = await subscriberLinks(c.env.SIGNING_KEY ?? '', '', s.id, Date.now(), ['preferences'])
    // A confirmed subscriber who asked for the newsletter on a later signup confirms it alone.
    const newsletterTitle = async () => {
      try {
        return newsletterOf((await content.manifest(c.env.CONTENT)).settings).title
      } catch {
        return 'the new essays'
      }
    }
    if (s.newsletter === 'pending' && prompt)
      return page(c, 'Confirm the new essays', <ConfirmPrompt newsletterTitle={await newsletterTitle()} />)
    if (confirmedNow === 'newsletter')
      return page(
        c,
        'You will get the new essays',
        <NewsletterConfirmed title={await newsletterTitle()} preferencesUrl={links.preferences} />,
      )
    const state: ConfirmedState = confirmedNow
      ? { now: true }
      : { now: false, status: s.status as 'active' | 'paused' | 'completed', lessonsReceived: s.lesson_position }
    return page(
      c,
      confirmedNow ? 'You are in' : 'Already confirmed',
      <Confirmed courseTitle={title} preferencesUrl={links.preferences} state={state} />,
    )
  }

  app.get(
    '/confirm/:token',
    link('The confirm page (a button; mail scanners only GET)'),
    signed('confirm'),
    async (c) => confirmPage(c, await store.getSubscriber(c.env.DB, c.get('subscriberId')), true),
  )

  app.post(
    '/confirm/:token',
    link('Confirm the subscription for the signup the link was sent for', {
      409: pageSpec('A link from an earlier signup'),
    }),
    small,
    signed('confirm'),
    async (c) => {
      const id = c.get('subscriberId')
      const round = c.get('round')
      const now = Date.now()
      const deps = lifecycleOf(c.env)
      const result = round === undefined ? undefined : await lifecycle.confirm(deps, id, round, now)
      const confirmed = result?.changed[0]
      // Not a signup waiting: perhaps the newsletter, asked for since (the same link confirms it).
      const joined = confirmed || round === undefined ? undefined : await lifecycle.confirmNewsletter(deps, id, now)
      const done = confirmed ? result : joined
      if (done) await afterAnswer(c)(ring(c.env.DB, c.env.MAIL, done.outbox))
      const what = confirmed ? 'course' : joined?.changed[0] ? 'newsletter' : false
      return confirmPage(c, done?.changed[0] ?? (await store.getSubscriber(c.env.DB, id)), false, what)
    },
  )

  /** What the link's topic is called, for the page that says what stops. */
  const leavingOf = async (c: Ctx): Promise<Leaving> => {
    const topic = c.get('topic')
    if (topic !== 'newsletter') {
      const s = await store.getSubscriber(c.env.DB, c.get('subscriberId'))
      return { topic, name: await courseTitle(c, s?.course ?? '') }
    }
    try {
      return { topic, name: newsletterOf((await content.manifest(c.env.CONTENT)).settings).title }
    } catch {
      return { topic, name: 'the newsletter' }
    }
  }

  app.get('/unsubscribe/:token', link('The unsubscribe page'), signed('unsubscribe'), async (c) =>
    page(c, 'Unsubscribe', <UnsubscribePrompt leaving={await leavingOf(c)} />),
  )

  // One handler for the page's button and for RFC 8058 one-click (body List-Unsubscribe=One-Click).
  app.post(
    '/unsubscribe/:token',
    link('Unsubscribe at once (RFC 8058 one-click: List-Unsubscribe=One-Click)'),
    small,
    signed('unsubscribe'),
    async (c) => {
      const body: Record<string, unknown> = await c.req.parseBody().catch(() => ({}))
      // An unsubscribe link works whatever round it came from: stopping mail must never fail.
      // It leaves the topic of the email it came in: a newsletter's the newsletter, a lesson's the
      // course, the confirmation's everything.
      const id = c.get('subscriberId')
      const now = Date.now()
      const left = await lifecycle.unsubscribe(
        lifecycleOf(c.env),
        id,
        now,
        body['List-Unsubscribe'] === 'One-Click',
        c.get('topic'),
      )
      await afterAnswer(c)(ring(c.env.DB, c.env.MAIL, left.outbox))
      const links = await subscriberLinks(c.env.SIGNING_KEY ?? '', '', id, now, ['preferences'])
      return page(
        c,
        'You are unsubscribed',
        <Unsubscribed leaving={await leavingOf(c)} preferencesUrl={links.preferences} />,
      )
    },
  )

  app.get('/stay/:token', link('The re-engagement email\u2019s button: keep getting our emails'), signed('stay'), (c) =>
    page(c, 'Keep getting our emails?', <StayPrompt />),
  )

  app.post(
    '/stay/:token',
    link('Keep getting our emails (the sunset policy asked)'),
    small,
    signed('stay'),
    async (c) => {
      const id = c.get('subscriberId')
      const now = Date.now()
      const s = await store.getSubscriber(c.env.DB, id)
      if (!s || ENDED.includes(s.status)) return page(c, 'Subscription ended', <Ended />, s ? 200 : 404)
      // Already answered (or never asked): nothing to change, the same thanks.
      const kept = await lifecycle.stay(lifecycleOf(c.env), id, now)
      // An answer is engagement: their emails are counted afresh from here.
      await recordClick(c.env.DB, id, 'reengagement', 'stay', now)
      await afterAnswer(c)(ring(c.env.DB, c.env.MAIL, kept.outbox))
      const links = await subscriberLinks(c.env.SIGNING_KEY ?? '', '', id, now, ['preferences'])
      return page(c, 'We will keep writing', <Stayed preferencesUrl={links.preferences} />)
    },
  )

  app.get('/preferences/:token', link('The preferences page'), signed('preferences'), (c) =>
    preferences(c, c.get('subscriberId')),
  )

  app.post(
    '/preferences/:token',
    describeRoute({
      ...linkSpec('Pause, resume, restart, or change first name and time zone', {
        409: pageSpec('Not possible from the current state'),
      }),
      requestBody: { content: { 'application/x-www-form-urlencoded': { schema: resolver(preferencesSchema) } } },
    }),
    small,
    signed('preferences'),
    async (c) => {
      const id = c.get('subscriberId')
      const raw = await c.req.parseBody().catch(() => undefined)
      const parsed = v.safeParse(preferencesSchema, raw ?? {})
      if (!parsed.success) return preferences(c, id, { errors: fieldProblems(parsed.issues), status: 400 })
      const { action, name, timezone } = parsed.output
      const now = Date.now()
      const current = await store.getSubscriber(c.env.DB, id)
      if (!current) return page(c, 'Subscription ended', <Ended />, 404)
      const settings = (await content.manifest(c.env.CONTENT)).settings
      const schedule = settings.courses[current.course]?.schedule
      const evidence = {
        ip: c.req.header('CF-Connecting-IP'),
        userAgent: ifValid(fields.userAgent, c.req.header('User-Agent')?.slice(0, 512)),
      }
      const consent = {
        course: { text: settings.courses[current.course]?.consent ?? '', ...evidence },
        newsletter: { text: newsletterOf(settings).consent, ...evidence },
      }
      const result = await applyPreference(lifecycleOf(c.env), current, action, now, name, timezone, schedule, consent)
      if (result.changed.length === 0)
        return preferences(c, id, {
          errors: { form: refusedText[action] },
          status: 409,
        })
      await afterAnswer(c)(ring(c.env.DB, c.env.MAIL, result.outbox))
      return preferences(c, id, { saved: savedText[action] })
    },
  )

  const preferences = async (
    c: Ctx,
    id: string,
    extra: { errors?: Record<string, string>; saved?: string; status?: number } = {},
  ) => {
    const s = await store.getSubscriber(c.env.DB, id)
    if (!s) return page(c, 'Subscription ended', <Ended />, 404)
    const manifest = await content.manifest(c.env.CONTENT)
    const settings = manifest.settings
    const timezones = Intl.supportedValuesOf('timeZone')
    if (!timezones.includes(s.timezone)) timezones.unshift(s.timezone)
    const body = (
      <Preferences
        subscriber={s}
        courseTitle={settings.courses[s.course]?.title ?? 'The course'}
        newsletter={newsletterOf(settings)}
        lessons={manifest.courses[s.course]?.lessons.length ?? 0}
        timezones={timezones}
        errors={extra.errors}
        saved={extra.saved}
      />
    )
    return page(c, 'Your preferences', body, extra.status ?? 200)
  }

  return app
}

const savedText = {
  save: 'Your details are saved.',
  pause: 'The course is paused. No lessons until you resume.',
  resume: 'The course is resumed. Your next lesson is on its way.',
  restart: 'The course starts again: lesson 1 is on its way.',
  'leave-course': 'You have left the course. No more lessons.',
  'join-course': 'You are taking the course again: lesson 1 is on its way.',
  'join-newsletter': 'You will get each new essay by email, in your morning.',
  'leave-newsletter': 'No more new essays by email.',
  'unsubscribe-all': 'You are unsubscribed from everything. We will send you nothing more.',
} as const satisfies Record<Action, string>

const refusedText: Record<Action, string> = {
  save: 'Your details cannot be changed any more: this address no longer receives mail.',
  pause: 'You cannot pause the course from its current state.',
  resume: 'You cannot resume the course from its current state.',
  restart: 'You cannot restart the course from its current state.',
  'leave-course': 'You are not taking the course.',
  'join-course': 'You cannot take the course again from its current state.',
  'join-newsletter': 'You cannot join the new essays now: confirm your address first, or you are already in.',
  'leave-newsletter': 'You are not subscribed to the new essays.',
  'unsubscribe-all': 'You are already unsubscribed from everything.',
}

type Action = (typeof PREFERENCE_ACTIONS)[number]

function applyPreference(
  deps: lifecycle.LifecycleDeps,
  s: store.Subscriber,
  action: Action,
  now: number,
  name: string | undefined,
  timezone: string | undefined,
  schedule: CourseSchedule | undefined,
  consent: { course: lifecycle.TopicConsent; newsletter: lifecycle.TopicConsent },
) {
  switch (action) {
    case 'save': {
      const zone = timezone ?? s.timezone
      // A lesson already due stays due; a later one moves to the send hour of the new zone.
      const moved =
        zone !== s.timezone && schedule && s.next_send_at !== null && s.next_send_at > now
          ? movedToZone(s.next_send_at, s.timezone, zone, schedule, now)
          : null
      return lifecycle.updateProfile(deps, s.id, now, { firstName: name ?? null, timezone: zone, nextSendAt: moved })
    }
    case 'pause':
      return lifecycle.pause(deps, s.id, now)
    case 'resume':
      return lifecycle.resume(deps, s.id, now)
    case 'restart':
      return lifecycle.restart(deps, s.id, now)
    case 'leave-course':
      return lifecycle.unsubscribe(deps, s.id, now, false, 'course')
    case 'join-course':
      return lifecycle.rejoinCourse(deps, s.id, now, consent.course)
    case 'join-newsletter':
      return lifecycle.joinNewsletter(deps, s.id, now, consent.newsletter)
    case 'leave-newsletter':
      return lifecycle.unsubscribe(deps, s.id, now, false, 'newsletter')
    case 'unsubscribe-all':
      return lifecycle.unsubscribe(deps, s.id, now, false, 'all')
  }
}
