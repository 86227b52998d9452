import { bodyLimit } from 'hono/body-limit'
import { Hono } from 'hono/tiny'
import type * as v from 'valibot'
import { describeRoute, json, problem, validate } from '../lib/api'
import { ApiError } from '../lib/errors'
import { mailSetup } from '../mail/config'
import type { SiteContent } from '../site/content'
import { lifecycleOf } from '../subscribers/lifecycle'
import { presentSubscriber } from '../subscribers/present'
import { getSubscriber } from '../subscribers/store'
import { suppressionOf } from '../subscribers/suppression'
import { csvResponse, decodeCursor, encodeCursor } from './csv'
import { importSubscribers } from './import'
import { erasePerson, exportPerson } from './privacy'
import {
  exportSchema,
  listSchema,
  personExportAnswer,
  personSchema,
  statsSchema,
  subscriberDetailAnswer,
  subscriberPageAnswer,
  testSchema,
} from './schemas'
import { clicksByEmail, courseStats, linkTable } from './stats'
import { listSubscribers, type SubscriberFilter, subscriberHistory } from './store'
import { sendTest } from './test-send'

/** What every admin route may answer besides its own success. */
const admin = (summary: string, responses: Record<number, unknown>) =>
  describeRoute({
    summary,
    tags: ['admin'],
    security: [{ admin: [] }],
    responses: {
      ...responses,
      400: problem('A parameter is invalid; each is named'),
      401: problem('No bearer token'),
      403: problem('Wrong token'),
      503: problem('ADMIN_TOKEN is not configured'),
    },
  })

const toFilter = (q: v.InferOutput<typeof exportSchema>): SubscriberFilter => ({
  status: q.status,
  source: q.source,
  utm_campaign: q.utm_campaign,
  createdFrom: q.created_from ? Date.parse(`${q.created_from}T00:00:00Z`) : undefined,
  createdTo: q.created_to ? Date.parse(`${q.created_to}T00:00:00Z`) + 86_400_000 : undefined,
  lessonReached: q.lesson_reached,
})

/** The marketers' API under /api/admin: subscribers (list, one, CSV), behind the admin token. */
export function adminApiRoutes(content: SiteContent) {
  const app = new Hono<{ Bindings: Env }>()

  app.get(
    '/api/admin/subscribers',
    admin('Subscribers, newest first, keyset-paginated', {
      200: json('A page of subscribers and next_cursor', subscriberPageAnswer),
    }),
    validate('query', listSchema),
    async (c) => {
      const q = c.req.valid('query')
      const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor)
      if (q.cursor !== undefined && !after) throw new ApiError(400, { cursor: 'is not a cursor this API gave out' })
      const found = await listSubscribers(c.env.DB, toFilter(q), q.limit, after)
      return c.json({
        subscribers: found.subscribers.map(presentSubscriber),
        next_cursor: found.next ? encodeCursor(found.next) : null,
      })
    },
  )

  // Streamed page by page, so an export of any size needs no more memory than one page.
  app.get(
    '/api/admin/subscribers.csv',
    admin('The filtered list as CSV (formulas neutralised)', {
      200: { description: 'CSV', content: { 'text/csv': { schema: { type: 'string' as const } } } },
    }),
    validate('query', exportSchema),
    (c) => csvResponse(c.env.DB, toFilter(c.req.valid('query'))),
  )

  app.get(
    '/api/admin/stats',
    admin('The funnel, rates, per-lesson and per-source figures, and first-party clicks per email and link', {
      200: json('The figures'),
    }),
    validate('query', statsSchema),
    async (c) => {
      const q = c.req.valid('query')
      const from = q.from ? Date.parse(`${q.from}T00:00:00Z`) : 0
      const to = q.to ? Date.parse(`${q.to}T00:00:00Z`) + 86_400_000 : Number.MAX_SAFE_INTEGER
      if (from >= to) throw new ApiError(400, { to: 'must not be before from' })
      const [stats, byEmail, byLink, manifest] = await Promise.all([
        courseStats(c.env.DB, { from, to }),
        clicksByEmail(c.env.DB),
        linkTable(c.env.DB),
        // Where each link leads is the published site's; the figures stand without it.
        content.manifest(c.env.CONTENT).catch(() => undefined),
      ])
      // First-party clicks (through /r/), all time: readers who clicked, per email and per link.
      const clicks = {
        by_email: Object.fromEntries(byEmail),
        by_link: byLink.map((l) => ({ ...l, target: manifest?.links?.[l.link] ?? null })),
      }
      return c.json({ ...stats, clicks })
    },
  )

  app.post(
    '/api/admin/test-email',
    admin('Send one email to yourself, as a subscriber would get it', {
      202: json('Sent'),
      409: problem('The address is suppressed'),
      502: problem('The provider refused'),
    }),
    validate('json', testSchema),
    async (c) => {
      const t = c.req.valid('json')
      // An erased, bounced or complained address is never mailed again, a test included.
      const suppressed = await suppressionOf(c.env.DB, t.to)
      if (suppressed) throw new ApiError(409, { to: `is suppressed (${suppressed}) and is never mailed again` })
      const manifest = await content.manifest(c.env.CONTENT)
      const setup = mailSetup(c.env, manifest.settings)
      if (!setup.ok) throw new ApiError(503, setup.problem)
      const template =
        t.email === 'lesson'
          ? await content.lesson(c.env.CONTENT, manifest, t.course, t.lesson ?? 1)
          : await content.email(c.env.CONTENT, manifest, t.email)
      if (!template) throw new ApiError(400, { lesson: `course ${t.course} has no lesson ${t.lesson ?? 1}` })
      const outcome = await sendTest({ db: c.env.DB, settings: manifest.settings, ...setup }, template, t)
      if (!outcome.ok) throw new ApiError(502, outcome.error.message)
      return c.json({ sent: true, id: outcome.id, subject: outcome.subject }, 202)
    },
  )

  // A CSV of up to 5 MB (tens of thousands of rows); nothing is stored unless every good row is.
  app.post(
    '/api/admin/subscribers/import',
    admin("Import a CSV (the export's columns); ?dry_run=1 reports without storing", {
      200: json('What was taken, and each refused row with its line and reasons'),
      413: problem('Over 5 MB'),
      415: problem('Not text/csv'),
      422: problem('Every row was refused'),
    }),
    bodyLimit({
      maxSize: 5 << 20,
      onError: () => {
        throw new ApiError(413, { body: 'must be at most 5 MB' })
      },
    }),
    async (c) => {
      const type = (c.req.header('Content-Type') ?? '').split(';')[0]?.trim()
      if (type !== 'text/csv') throw new ApiError(415, 'send the CSV as text/csv')
      const manifest = await content.manifest(c.env.CONTENT)
      const courses = Object.fromEntries(
        Object.entries(manifest.courses).map(([id, course]) => [id, course.lessons.length]),
      )
      const report = await importSubscribers(
        lifecycleOf(c.env),
        c.env.MAIL,
        await c.req.text(),
        Date.now(),
        c.req.query('dry_run') === '1',
        courses,
      )
      return c.json(report, report.refused.length > 0 && report.taken === 0 ? 422 : 200)
    },
  )

  const person = validate('param', personSchema)

  app.get(
    '/api/admin/people/:email',
    admin('GDPR export: everything held about one address', {
      200: json(
        'Every subscription (the whole stored row) with its history, lessons and broadcasts sent, each email received with what became of it, clicks and emails; times in ISO 8601',
        personExportAnswer,
      ),
    }),
    person,
    async (c) => c.json(await exportPerson(c.env.DB, c.req.valid('param').email)),
  )

  app.delete(
    '/api/admin/people/:email',
    admin('GDPR erasure: every row about the address goes; its hash is kept so it is never stored again', {
      200: json('How many subscriptions were erased'),
    }),
    person,
    async (c) => {
      const erased = await erasePerson(lifecycleOf(c.env), c.env.MAIL, c.req.valid('param').email, Date.now())
      return c.json({ erased, suppressed: true })
    },
  )

  app.get(
    '/api/admin/subscribers/:id',
    admin('One subscriber with history, deliveries and the emails received', {
      200: json(
        'The subscriber, with deliveries, history and each email received with what became of it; times in ISO 8601',
        subscriberDetailAnswer,
      ),
      404: problem('No such subscriber'),
    }),
    async (c) => {
      const row = await getSubscriber(c.env.DB, c.req.param('id'))
      if (!row) throw new ApiError(404, 'no subscriber with that id')
      const history = await subscriberHistory(c.env.DB, row.id)
      return c.json({ subscriber: presentSubscriber(row), ...history })
    },
  )

  return app
}
