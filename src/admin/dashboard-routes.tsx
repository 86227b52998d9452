import type { Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie'
import { Hono } from 'hono/tiny'
import * as v from 'valibot'
import { afterAnswer } from '../lib/after-answer'
import { pageRoute, page as pageSpec } from '../lib/api'
import { ApiError, describeProblems, fieldProblems } from '../lib/errors'
import { presentBroadcast } from '../newsletter/present'
import { listBroadcasts, syncDrafts } from '../newsletter/store'
import type { SiteContent } from '../site/content'
import { lifecycleOf } from '../subscribers/lifecycle'
import { DEFAULT_COURSE } from '../subscribers/schema'
import { getSubscriber, type SubscriberStatus } from '../subscribers/store'
import { adminPages, cookieOptions, SESSION, SESSION_MS, signedIn } from './admin-page'
import { adminProblem, tokenCheck } from './auth'
import { cancel, createBroadcast, found, resume, sampleEmail, testSend } from './broadcast-routes'
import { csvResponse, decodeCursor, encodeCursor } from './csv'
import { erasePerson, exportPerson } from './privacy'
import { BroadcastList, BroadcastPage } from './render/broadcasts'
import {
  DeadLetters,
  EraseConfirm,
  Lessons,
  Overview,
  SignIn,
  SubscriberPage,
  SubscriberTable,
} from './render/dashboard'
import { broadcastIdSchema, broadcastSchema, broadcastTestSchema, STATUSES } from './schemas'
import { endSession, openSession } from './sessions'
import { broadcastTable, clicksByEmail, courseStats, lessonReach, linkTable, signupsPerDay, sourceTable } from './stats'
import { knownSources, listDeadLetters, listSubscribers, type SubscriberFilter, subscriberHistory } from './store'
import { sampleFilled } from './test-send'

/** A dashboard page, behind the session cookie. */
const dash = (summary: string, responses: Record<number, unknown> = {}) =>
  pageRoute(summary, { 303: pageSpec('Not signed in: to the sign-in page'), ...responses }, ['dashboard'])

/**
 * The marketers' dashboard at /admin: sign-in with the admin token (a signed, HttpOnly, Secure,
 * SameSite=Strict session cookie of 8 hours), overview, subscribers, lessons, dead letters.
 * Plain HTML forms: nothing needs JavaScript.
 */
export function dashboardRoutes(content: SiteContent) {
  const app = new Hono<{ Bindings: Env }>()

  const page = adminPages(content)

  app.get('/admin/sign-in', dash('The sign-in page'), (c) => page(c.env, 'Sign in', <SignIn />))

  app.post(
    '/admin/sign-in',
    dash('Sign in with ADMIN_TOKEN (sets the session cookie)', {
      303: pageSpec('Signed in'),
      401: pageSpec('Wrong token'),
    }),
    bodyLimit({ maxSize: 4096, onError: (c) => c.text('Too large.\n', 413) }),
    async (c) => {
      const problem = adminProblem(c.env)
      if (problem)
        return page(c.env, 'Sign in', <SignIn error={`The dashboard cannot open: ${problem}.`} />, { status: 503 })
      const given = (await c.req.parseBody().catch(() => ({}) as Record<string, unknown>)).token
      let verdict: 'right' | 'wrong' = 'wrong'
      try {
        verdict = typeof given === 'string' && given !== '' ? await tokenCheck(c, given) : 'wrong'
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 429)) throw err
        const res = await page(
          c.env,
          'Sign in',
          <SignIn error={`Too many wrong tokens: ${err.fields.form ?? err.message}.`} />,
          {
            status: 429,
          },
        )
        res.headers.set('Retry-After', err.headers['Retry-After'] ?? '600')
        return res
      }
      if (verdict === 'wrong')
        return page(c.env, 'Sign in', <SignIn error="That is not the admin token." />, { status: 403 })
      const now = Date.now()
      const id = await openSession(c.env.DB, now, now + SESSION_MS)
      await setSignedCookie(c, SESSION, id, c.env.ADMIN_TOKEN as string, {
        ...cookieOptions,
        maxAge: SESSION_MS / 1000,
      })
      return c.redirect('/admin', 303)
    },
  )

  app.post(
    '/admin/sign-out',
    dash('Sign out: the session ends, copies of its cookie included', { 303: pageSpec('Signed out') }),
    async (c) => {
      const id = c.env.ADMIN_TOKEN ? await getSignedCookie(c, c.env.ADMIN_TOKEN, SESSION) : undefined
      if (id) await endSession(c.env.DB, id, Date.now())
      deleteCookie(c, SESSION, cookieOptions)
      return c.redirect('/admin/sign-in', 303)
    },
  )

  // Every dashboard page wants an open session, but the doors in and out: a page added later is
  // behind it by default.
  const signed = signedIn(content)
  app.use('/admin', signed)
  app.use('/admin/*', async (c, next) =>
    c.req.path === '/admin/sign-in' || c.req.path === '/admin/sign-out' ? next() : signed(c, next),
  )

  app.get('/admin', dash('The overview: signups per day, funnel, rates'), async (c) => {
    const manifest = await content.manifest(c.env.CONTENT)
    const lessons = manifest.courses[DEFAULT_COURSE]?.lessons.length ?? 0
    const [stats, days, reach, sources, broadcasts, clicks, links] = await Promise.all([
      courseStats(c.env.DB, { from: 0, to: Number.MAX_SAFE_INTEGER }),
      signupsPerDay(c.env.DB, Date.now(), 30),
      lessonReach(c.env.DB, lessons),
      sourceTable(c.env.DB),
      broadcastTable(c.env.DB),
      clicksByEmail(c.env.DB),
      linkTable(c.env.DB),
    ])
    const lessonClicks = (n: number) => clicks.get(`lesson:${DEFAULT_COURSE}:${n}`) ?? 0
    const linkRows = links.map((l) => ({ ...l, target: manifest.links?.[l.link] ?? l.link }))
    const funnel = [
      { step: 'Signed up', count: stats.funnel.signed_up },
      { step: 'Confirmed', count: stats.funnel.confirmed },
      ...reach.map((count, i) => ({ step: `Lesson ${i + 1}`, count })),
      { step: 'Completed', count: stats.funnel.completed },
    ]
    return page(
      c.env,
      'Overview',
      <Overview
        stats={stats}
        days={days}
        funnel={funnel}
        sources={sources}
        broadcasts={broadcasts}
        lessonClicks={lessonClicks}
        links={linkRows}
      />,
      { current: '/admin' },
    )
  })

  const small = bodyLimit({ maxSize: 8192, onError: (c) => c.text('Too large.\n', 413) })
  const formOf = async (c: Context<{ Bindings: Env }>) => {
    const raw = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>)
    return Object.fromEntries(
      Object.entries(raw).flatMap(([k, v]) => (typeof v === 'string' && v.trim() !== '' ? [[k, v.trim()]] : [])),
    ) as Record<string, string>
  }

  /** The list's query: each value bounded; a status that is not one is refused, naming it. */
  const listQuery = v.object({
    q: v.optional(v.pipe(v.string(), v.maxLength(100, 'must be at most 100 characters')), ''),
    status: v.optional(v.union([v.literal(''), v.picklist(STATUSES)], `must be one of ${STATUSES.join(', ')}`), ''),
    source: v.optional(v.pipe(v.string(), v.maxLength(64, 'must be at most 64 characters')), ''),
    cursor: v.optional(v.pipe(v.string(), v.maxLength(200, 'is not a page of this list'))),
  })
  const listPage = async (c: Context<{ Bindings: Env }>, notice?: string) => {
    const parsed = v.safeParse(listQuery, c.req.query())
    const filters = parsed.success ? parsed.output : { q: '', status: '', source: '', cursor: undefined }
    const after = filters.cursor === undefined ? undefined : decodeCursor(filters.cursor)
    const problem = !parsed.success
      ? describeProblems(fieldProblems(parsed.issues))
      : filters.cursor !== undefined && !after
        ? 'cursor is not a page of this list'
        : undefined
    const filter: SubscriberFilter = {
      ...(filters.status ? { status: filters.status as SubscriberStatus } : {}),
      ...(filters.source ? { source: filters.source } : {}),
      ...(filters.q ? { emailContains: filters.q } : {}),
    }
    const [found, sources] = await Promise.all([
      problem ? { subscribers: [], next: undefined } : listSubscribers(c.env.DB, filter, 50, after),
      knownSources(c.env.DB),
    ])
    return page(
      c.env,
      'Subscribers',
      <SubscriberTable
        rows={found.subscribers}
        filters={{ q: filters.q, status: filters.status, source: filters.source }}
        statuses={STATUSES}
        sources={sources}
        next={found.next ? encodeCursor(found.next) : undefined}
        paged={after !== undefined}
        error={problem}
        notice={notice}
      />,
      { current: '/admin/subscribers', status: problem ? 400 : 200 },
    )
  }

  app.get(
    '/admin/subscribers',
    dash('Subscribers: search, status and source, a page at a time', { 400: pageSpec('A filter is invalid') }),
    (c) => listPage(c, c.req.query('erased') === '1' ? 'Erased: nothing about that address remains.' : undefined),
  )

  app.get('/admin/subscribers.csv', dash('The filtered list as CSV'), (c) => {
    const parsed = v.safeParse(listQuery, c.req.query())
    if (!parsed.success) throw new ApiError(400, fieldProblems(parsed.issues))
    const f = parsed.output
    return csvResponse(c.env.DB, {
      ...(f.status ? { status: f.status as SubscriberStatus } : {}),
      ...(f.source ? { source: f.source } : {}),
      ...(f.q ? { emailContains: f.q } : {}),
    })
  })

  /** One subscriber, or a 404 page. */
  const subscriberOr404 = async (c: Context<{ Bindings: Env }>) => {
    const s = await getSubscriber(c.env.DB, c.req.param('id') ?? '')
    if (!s) throw new ApiError(404, 'no subscriber with that id')
    return s
  }

  app.get(
    '/admin/subscribers/:id',
    dash('One subscriber: consent, history, emails, GDPR', { 404: pageSpec('No such subscriber') }),
    async (c) => {
      const s = await subscriberOr404(c)
      const settings = (await content.manifest(c.env.CONTENT)).settings
      return page(
        c.env,
        s.email,
        <SubscriberPage
          s={s}
          courseTitle={settings.courses[s.course]?.title ?? s.course}
          history={await subscriberHistory(c.env.DB, s.id)}
        />,
        { current: '/admin/subscribers/' },
      )
    },
  )

  app.get(
    '/admin/subscribers/:id/export.json',
    dash('GDPR export of the address, as JSON', { 404: pageSpec('No such subscriber') }),
    async (c) => {
      const s = await subscriberOr404(c)
      return c.json(await exportPerson(c.env.DB, s.email), 200, {
        'Content-Disposition': `attachment; filename="${s.id}.json"`,
      })
    },
  )

  app.get(
    '/admin/subscribers/:id/erase',
    dash('Erasure asks first', { 404: pageSpec('No such subscriber') }),
    async (c) => {
      const s = await subscriberOr404(c)
      return page(c.env, `Erase ${s.email}?`, <EraseConfirm s={s} />, { current: '/admin/subscribers/' })
    },
  )

  app.post(
    '/admin/subscribers/:id/erase',
    dash('Erase the address for good, once it is typed again', {
      303: pageSpec('Erased'),
      400: pageSpec('The address typed is not this one'),
      404: pageSpec('No such subscriber'),
    }),
    small,
    async (c) => {
      const s = await subscriberOr404(c)
      const form = await formOf(c)
      if ((form.confirm ?? '').trim().toLowerCase() !== s.email.trim().toLowerCase())
        return page(
          c.env,
          `Erase ${s.email}?`,
          <EraseConfirm s={s} error="That is not this subscriber's address: nothing was erased." />,
          {
            current: '/admin/subscribers/',
            status: 400,
          },
        )
      await erasePerson(lifecycleOf(c.env), c.env.MAIL, s.email, Date.now())
      return c.redirect('/admin/subscribers?erased=1', 303)
    },
  )

  app.get('/admin/lessons', dash("The course's lessons with their reach"), async (c) => {
    const manifest = await content.manifest(c.env.CONTENT)
    const lessons = await Promise.all(
      (manifest.courses[DEFAULT_COURSE]?.lessons ?? []).map(async (l, i) => {
        const raw = await content.lesson(c.env.CONTENT, manifest, DEFAULT_COURSE, i + 1)
        // As a subscriber gets it: sample values in place of the placeholders.
        const t =
          raw && sampleFilled(raw, c.env.PUBLIC_URL || manifest.settings.baseUrl, manifest.settings, DEFAULT_COURSE)
        return {
          n: i + 1,
          subject: l.subject,
          webPath: l.webPath,
          bytes: new TextEncoder().encode(t?.html ?? '').length,
          text: t?.text ?? '',
        }
      }),
    )
    return page(c.env, 'Lessons', <Lessons lessons={lessons} />, { frames: true, current: '/admin/lessons' })
  })

  app.get('/admin/lessons/:n/html', dash('One lesson as HTML', { 404: pageSpec('No such lesson') }), async (c) => {
    const manifest = await content.manifest(c.env.CONTENT)
    const raw = await content.lesson(c.env.CONTENT, manifest, DEFAULT_COURSE, Number(c.req.param('n')))
    if (!raw) return c.notFound()
    const lesson = sampleFilled(raw, c.env.PUBLIC_URL || manifest.settings.baseUrl, manifest.settings, DEFAULT_COURSE)
    return c.html(lesson.html, 200, {
      'Content-Security-Policy':
        "default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; frame-ancestors 'self'",
      'Cache-Control': 'no-store',
    })
  })

  // ---- Broadcasts: the same actions as the API, as forms ----------------------------------------

  const broadcastPage = async (
    env: Env,
    id: string,
    extra: { notice?: string; errors?: Record<string, string>; values?: Record<string, string>; status?: number } = {},
  ) => {
    const manifest = await content.manifest(env.CONTENT)
    const b = await found(env, id)
    const entry = manifest.broadcasts?.[b.path]
    const template = entry ? await content.template(env.CONTENT, entry) : undefined
    return page(
      env,
      `Broadcast: ${entry?.title ?? b.path}`,
      <BroadcastPage
        b={presentBroadcast(b, manifest)}
        text={
          template
            ? sampleFilled(template, env.PUBLIC_URL || manifest.settings.baseUrl, manifest.settings, DEFAULT_COURSE)
                .text
            : 'This essay or letter is no longer published.'
        }
        bytes={new TextEncoder().encode(template?.html ?? '').length}
        {...extra}
      />,
      { frames: true, status: extra.status, current: `/admin/broadcasts/${id}` },
    )
  }
  const idOf = (c: Context<{ Bindings: Env }>) => {
    const parsed = v.safeParse(broadcastIdSchema, { id: c.req.param('id') })
    if (!parsed.success) throw new ApiError(404, { id: 'no broadcast has this id' })
    return parsed.output.id
  }

  app.get('/admin/broadcasts', dash('Broadcasts: drafts, scheduled, sent'), async (c) => {
    const manifest = await content.manifest(c.env.CONTENT)
    await syncDrafts(c.env.DB, Object.keys(manifest.broadcasts ?? {}), Date.now())
    const all = (await listBroadcasts(c.env.DB)).filter((b) => b.status !== 'draft' || manifest.broadcasts?.[b.path])
    return page(c.env, 'Broadcasts', <BroadcastList broadcasts={all.map((b) => presentBroadcast(b, manifest))} />, {
      current: '/admin/broadcasts',
    })
  })

  app.post(
    '/admin/broadcasts',
    dash('Schedule a broadcast from the form', { 303: pageSpec('Scheduled'), 400: pageSpec('A field is invalid') }),
    small,
    async (c) => {
      const form = await formOf(c)
      const segment = Object.fromEntries(
        Object.entries(form).flatMap(([k, value]) => (k.startsWith('segment.') ? [[k.slice(8), value]] : [])),
      )
      const body = {
        path: form.path,
        // The form's datetime-local has no zone: it is read as UTC, as its label says.
        send: form.send === 'at' ? (form.at ? `${form.at.length === 16 ? `${form.at}:00` : form.at}Z` : '') : form.send,
        ...(Object.keys(segment).length > 0 ? { segment } : {}),
      }
      const drafts = await listBroadcasts(c.env.DB)
      const back = drafts.find((b) => b.path === form.path)?.id
      const refuse = (errors: Record<string, string>) =>
        back
          ? broadcastPage(c.env, back, { errors, values: form, status: 400 })
          : page(c.env, 'Broadcast not scheduled', <p class="notice error">{Object.values(errors).join('; ')}</p>, {
              status: 400,
              current: '/admin/broadcasts',
            })
      const parsed = v.safeParse(broadcastSchema, body)
      if (!parsed.success) {
        const errors = fieldProblems(parsed.issues)
        if (errors.send && form.send === 'at') errors.send = 'choose a time (UTC) for "At this time"'
        return refuse(errors)
      }
      try {
        const { broadcast } = await createBroadcast(c.env, content, parsed.output, afterAnswer(c))
        return c.redirect(`/admin/broadcasts/${broadcast.id}`, 303)
      } catch (err) {
        if (err instanceof ApiError && err.status === 400) return refuse(err.fields)
        throw err
      }
    },
  )

  app.get('/admin/broadcasts/:id', dash('One broadcast: progress, preview, test, schedule'), (c) =>
    broadcastPage(c.env, idOf(c)),
  )

  app.get('/admin/broadcasts/:id/html', dash('Its email as HTML, with sample values'), async (c) => {
    const b = await found(c.env, idOf(c))
    const { email } = await sampleEmail(c.env, content, b, 'reader@example.com')
    return c.html(email.html, 200, {
      'Content-Security-Policy':
        "default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; frame-ancestors 'self'",
      'Cache-Control': 'no-store',
    })
  })

  app.post('/admin/broadcasts/:id/test', dash('Send a test', { 400: pageSpec('Bad address') }), small, async (c) => {
    const id = idOf(c)
    const form = await formOf(c)
    const to = v.safeParse(broadcastTestSchema, { to: form.to ?? '' })
    if (!to.success) return broadcastPage(c.env, id, { errors: fieldProblems(to.issues), values: form, status: 400 })
    try {
      const sent = await testSend(c.env, content, id, to.output.to)
      return broadcastPage(c.env, id, { notice: `Sent “${sent.subject}” to ${to.output.to}.`, values: form })
    } catch (err) {
      if (err instanceof ApiError && err.status < 500)
        return broadcastPage(c.env, id, { errors: { to: err.message }, values: form, status: err.status })
      throw err
    }
  })

  for (const action of ['cancel', 'resume'] as const)
    app.post(
      `/admin/broadcasts/:id/${action}`,
      dash(`${action} the broadcast`, { 303: pageSpec('Done') }),
      small,
      async (c) => {
        const id = idOf(c)
        try {
          if (action === 'cancel') await cancel(c.env, content, id)
          else await resume(c.env, content, id, afterAnswer(c))
        } catch (err) {
          if (err instanceof ApiError && err.status === 409)
            return broadcastPage(c.env, id, { errors: { form: err.message }, status: 409 })
          throw err
        }
        return c.redirect(`/admin/broadcasts/${id}`, 303)
      },
    )

  app.get('/admin/dead-letters', dash('Jobs that failed every retry'), async (c) => {
    return page(c.env, 'Dead letters', <DeadLetters rows={await listDeadLetters(c.env.DB)} />, {
      current: '/admin/dead-letters',
    })
  })

  return app
}
