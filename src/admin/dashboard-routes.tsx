import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie'
import { createMiddleware } from 'hono/factory'
import type { Child } from 'hono/jsx'
import { timingSafeEqual } from 'hono/utils/buffer'
import { pageRoute, page as pageSpec } from '../lib/api'
import type { SiteContent } from '../site/content'
import { DEFAULT_COURSE } from '../subscribers/schema'
import { renderPage } from '../ui/page'
import { DeadLetters, Lessons, Overview, SignIn, SubscriberTable } from './render/dashboard'
import { courseStats, lessonReach, signupsPerDay } from './stats'
import { listDeadLetters, searchSubscribers } from './store'

/** A dashboard page, behind the session cookie. */
const dash = (summary: string, responses: Record<number, unknown> = {}) =>
  pageRoute(summary, { 303: pageSpec('Not signed in: to the sign-in page'), ...responses }, ['dashboard'])

const SESSION = 'admin_session'
const SESSION_MS = 8 * 3600_000
const cookieOptions = { path: '/admin', httpOnly: true, secure: true, sameSite: 'Strict' } as const

/**
 * The marketers' dashboard at /admin: sign-in with the admin token (a signed, HttpOnly, Secure,
 * SameSite=Strict session cookie of 8 hours), overview, subscribers, lessons, dead letters.
 * Plain HTML forms: nothing needs JavaScript.
 */
export function dashboardRoutes(content: SiteContent) {
  const app = new Hono<{ Bindings: Env }>()

  const page = async (env: Env, title: string, body: Child, o: { status?: number; frames?: boolean } = {}) =>
    renderPage((await content.manifest(env.CONTENT)).settings, { title, description: title, ...o }, body)

  const signedIn = createMiddleware<{ Bindings: Env }>(async (c, next) => {
    const token = c.env.ADMIN_TOKEN
    if (!token) return page(c.env, 'Dashboard', <p>The dashboard is not configured (ADMIN_TOKEN).</p>, { status: 503 })
    const until = await getSignedCookie(c, token, SESSION)
    if (!until || Number(until) < Date.now()) return c.redirect('/admin/sign-in', 303)
    await next()
  })

  app.get('/admin/sign-in', dash('The sign-in page'), (c) => page(c.env, 'Sign in', <SignIn />))

  app.post(
    '/admin/sign-in',
    dash('Sign in with ADMIN_TOKEN (sets the session cookie)', {
      303: pageSpec('Signed in'),
      401: pageSpec('Wrong token'),
    }),
    bodyLimit({ maxSize: 4096, onError: (c) => c.text('Too large.\n', 413) }),
    async (c) => {
      const expected = c.env.ADMIN_TOKEN
      if (!expected)
        return page(c.env, 'Sign in', <SignIn error="The dashboard is not configured (ADMIN_TOKEN)." />, {
          status: 503,
        })
      const given = (await c.req.parseBody().catch(() => ({}) as Record<string, unknown>)).token
      if (typeof given !== 'string' || !(await timingSafeEqual(expected, given)))
        return page(c.env, 'Sign in', <SignIn error="That is not the admin token." />, { status: 403 })
      await setSignedCookie(c, SESSION, String(Date.now() + SESSION_MS), expected, {
        ...cookieOptions,
        maxAge: SESSION_MS / 1000,
      })
      return c.redirect('/admin', 303)
    },
  )

  app.post('/admin/sign-out', dash('Sign out', { 303: pageSpec('Signed out') }), (c) => {
    deleteCookie(c, SESSION, cookieOptions)
    return c.redirect('/admin/sign-in', 303)
  })

  for (const path of ['/admin', '/admin/subscribers', '/admin/lessons', '/admin/lessons/*', '/admin/dead-letters'])
    app.use(path, signedIn)

  app.get('/admin', dash('The overview: signups per day, funnel, rates'), async (c) => {
    const manifest = await content.manifest(c.env.CONTENT)
    const lessons = manifest.courses[DEFAULT_COURSE]?.lessons.length ?? 0
    const [stats, days, reach] = await Promise.all([
      courseStats(c.env.DB, { from: 0, to: Number.MAX_SAFE_INTEGER }),
      signupsPerDay(c.env.DB, Date.now(), 30),
      lessonReach(c.env.DB, lessons),
    ])
    const funnel = [
      { step: 'Signed up', count: stats.funnel.signed_up },
      { step: 'Confirmed', count: stats.funnel.confirmed },
      ...reach.map((count, i) => ({ step: `Lesson ${i + 1}`, count })),
      { step: 'Completed', count: stats.funnel.completed },
    ]
    return page(c.env, 'Overview', <Overview stats={stats} days={days} funnel={funnel} />)
  })

  app.get('/admin/subscribers', dash('Subscribers, searchable by address, status and source'), async (c) => {
    const q = (c.req.query('q') ?? '').slice(0, 100)
    const status = (c.req.query('status') ?? '').slice(0, 20)
    const source = (c.req.query('source') ?? '').slice(0, 64)
    const rows = await searchSubscribers(c.env.DB, { q, status, source })
    return page(c.env, 'Subscribers', <SubscriberTable rows={rows} q={q} status={status} source={source} />)
  })

  app.get('/admin/lessons', dash("The course's lessons with their reach"), async (c) => {
    const manifest = await content.manifest(c.env.CONTENT)
    const lessons = await Promise.all(
      (manifest.courses[DEFAULT_COURSE]?.lessons ?? []).map(async (l, i) => {
        const t = await content.lesson(c.env.CONTENT, manifest, DEFAULT_COURSE, i + 1)
        return {
          n: i + 1,
          subject: l.subject,
          webPath: l.webPath,
          bytes: new TextEncoder().encode(t?.html ?? '').length,
          text: t?.text ?? '',
        }
      }),
    )
    return page(c.env, 'Lessons', <Lessons lessons={lessons} />, { frames: true })
  })

  app.get('/admin/lessons/:n/html', dash('One lesson as HTML', { 404: pageSpec('No such lesson') }), async (c) => {
    const manifest = await content.manifest(c.env.CONTENT)
    const lesson = await content.lesson(c.env.CONTENT, manifest, DEFAULT_COURSE, Number(c.req.param('n')))
    if (!lesson) return c.notFound()
    return c.html(lesson.html, 200, {
      'Content-Security-Policy':
        "default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; frame-ancestors 'self'",
      'Cache-Control': 'no-store',
    })
  })

  app.get('/admin/dead-letters', dash('Jobs that failed every retry'), async (c) => {
    return page(c.env, 'Dead letters', <DeadLetters rows={await listDeadLetters(c.env.DB)} />)
  })

  return app
}
