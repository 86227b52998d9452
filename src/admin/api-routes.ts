import { zValidator } from '@hono/zod-validator'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { z } from 'zod'
import { mailSetup } from '../mail/config'
import type { SiteContent } from '../site/content'
import { lifecycleOf } from '../subscribers/lifecycle'
import { presentSubscriber } from '../subscribers/present'
import { fieldErrors } from '../subscribers/schema'
import { getSubscriber } from '../subscribers/store'
import { suppressionOf } from '../subscribers/suppression'
import { adminAuth } from './auth'
import { CSV_COLUMNS, csvLine } from './csv'
import { importSubscribers } from './import'
import { erasePerson, exportPerson } from './privacy'
import { exportSchema, listSchema, personSchema, statsSchema, testSchema } from './schemas'
import { courseStats } from './stats'
import { type Cursor, listSubscribers, type SubscriberFilter, subscriberHistory } from './store'
import { sendTest } from './test-send'

const invalid = (fields: Record<string, string>) =>
  Response.json(
    {
      error: {
        status: 400,
        message: Object.entries(fields)
          .map(([f, m]) => `${f} ${m}`)
          .join('; '),
        fields,
      },
    },
    { status: 400 },
  )

/** One validation hook for every query: 400, each bad parameter named. */
const hook = (result: { success: true } | { success: false; error: { issues: readonly z.core.$ZodIssue[] } }) =>
  result.success ? undefined : invalid(fieldErrors(result.error))

const toFilter = (q: z.infer<typeof exportSchema>): SubscriberFilter => ({
  status: q.status,
  source: q.source,
  utm_campaign: q.utm_campaign,
  createdFrom: q.created_from ? Date.parse(`${q.created_from}T00:00:00Z`) : undefined,
  createdTo: q.created_to ? Date.parse(`${q.created_to}T00:00:00Z`) + 86_400_000 : undefined,
  lessonReached: q.lesson_reached,
})

const encodeCursor = (c: Cursor) => btoa(JSON.stringify([c.createdAt, c.id])).replace(/=+$/, '')
function decodeCursor(text: string): Cursor | undefined {
  try {
    const [createdAt, id] = JSON.parse(atob(text)) as unknown[]
    return typeof createdAt === 'number' && typeof id === 'string' ? { createdAt, id } : undefined
  } catch {
    return undefined
  }
}

/** The marketers' API under /api/admin: subscribers (list, one, CSV), behind the admin token. */
export function adminApiRoutes(content: SiteContent) {
  const app = new Hono<{ Bindings: Env }>()
  app.use('/api/admin/*', adminAuth)

  app.get('/api/admin/subscribers', zValidator('query', listSchema, hook), async (c) => {
    const q = c.req.valid('query')
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor)
    if (q.cursor !== undefined && !after) return invalid({ cursor: 'is not a cursor this API gave out' })
    const page = await listSubscribers(c.env.DB, toFilter(q), q.limit, after)
    return c.json({
      subscribers: page.subscribers.map(presentSubscriber),
      next_cursor: page.next ? encodeCursor(page.next) : null,
    })
  })

  // Streamed page by page, so an export of any size needs no more memory than one page.
  app.get('/api/admin/subscribers.csv', zValidator('query', exportSchema, hook), (c) => {
    const filter = toFilter(c.req.valid('query'))
    const db = c.env.DB
    let after: Cursor | undefined
    let done = false
    const encoder = new TextEncoder()
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(`${CSV_COLUMNS.join(',')}\r\n`))
      },
      async pull(controller) {
        if (done) return controller.close()
        const page = await listSubscribers(db, filter, 500, after)
        controller.enqueue(encoder.encode(page.subscribers.map(csvLine).join('')))
        after = page.next
        done = !page.next
      },
    })
    return new Response(body, {
      headers: {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': 'attachment; filename="subscribers.csv"',
        'Cache-Control': 'no-store',
      },
    })
  })

  app.get('/api/admin/stats', zValidator('query', statsSchema, hook), async (c) => {
    const q = c.req.valid('query')
    const from = q.from ? Date.parse(`${q.from}T00:00:00Z`) : 0
    const to = q.to ? Date.parse(`${q.to}T00:00:00Z`) + 86_400_000 : Number.MAX_SAFE_INTEGER
    if (from >= to) return invalid({ to: 'must not be before from' })
    return c.json(await courseStats(c.env.DB, { from, to }))
  })

  app.post('/api/admin/test-email', zValidator('json', testSchema, hook), async (c) => {
    const t = c.req.valid('json')
    // An erased, bounced or complained address is never mailed again, a test included.
    const suppressed = await suppressionOf(c.env.DB, t.to)
    if (suppressed) {
      const fields = { to: `is suppressed (${suppressed}) and is never mailed again` }
      return c.json({ error: { status: 409, message: `to ${fields.to}`, fields } }, 409)
    }
    const manifest = await content.manifest(c.env.CONTENT)
    const setup = mailSetup(c.env, manifest.settings)
    if (!setup.ok) return c.json({ error: { status: 503, message: setup.problem } }, 503)
    const template =
      t.email === 'lesson'
        ? await content.lesson(c.env.CONTENT, manifest, t.course, t.lesson ?? 1)
        : await content.email(c.env.CONTENT, manifest, t.email)
    if (!template) return invalid({ lesson: `course ${t.course} has no lesson ${t.lesson ?? 1}` })
    const outcome = await sendTest({ db: c.env.DB, settings: manifest.settings, ...setup }, template, t)
    if (!outcome.ok) return c.json({ error: { status: 502, message: outcome.error.message } }, 502)
    return c.json({ sent: true, id: outcome.id, subject: `[Test] ${template.subject}` }, 202)
  })

  // A CSV of up to 5 MB (tens of thousands of rows); nothing is stored unless every good row is.
  app.post(
    '/api/admin/subscribers/import',
    bodyLimit({ maxSize: 5 << 20, onError: () => invalid({ body: 'must be at most 5 MB' }) }),
    async (c) => {
      const type = (c.req.header('Content-Type') ?? '').split(';')[0]?.trim()
      if (type !== 'text/csv')
        return c.json({ error: { status: 415, message: 'send the CSV as text/csv', fields: {} } }, 415)
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

  const person = zValidator('param', personSchema, hook)

  app.get('/api/admin/people/:email', person, async (c) =>
    c.json(await exportPerson(c.env.DB, c.req.valid('param').email)),
  )

  app.delete('/api/admin/people/:email', person, async (c) => {
    const erased = await erasePerson(lifecycleOf(c.env), c.env.MAIL, c.req.valid('param').email, Date.now())
    return c.json({ erased, suppressed: true })
  })

  app.get('/api/admin/subscribers/:id', async (c) => {
    const row = await getSubscriber(c.env.DB, c.req.param('id'))
    if (!row) return c.json({ error: { status: 404, message: 'no subscriber with that id', fields: {} } }, 404)
    const history = await subscriberHistory(c.env.DB, row.id)
    return c.json({ subscriber: presentSubscriber(row), ...history })
  })

  return app
}
