import { Hono } from 'hono/tiny'
import type * as v from 'valibot'
import { afterAnswer } from '../lib/after-answer'
import { describeRoute, json, problem, validate } from '../lib/api'
import { ApiError } from '../lib/errors'
import { nextMorning } from '../lib/schedule'
import { mailSetup } from '../mail/config'
import { renderBroadcast } from '../newsletter/deliver'
import { dispatchBroadcasts } from '../newsletter/dispatch'
import { presentBroadcast } from '../newsletter/present'
import {
  type Broadcast,
  cancelBroadcast,
  getBroadcast,
  listBroadcasts,
  resumeBroadcast,
  type Segment,
  scheduleBroadcast,
  segmentZones,
  syncDrafts,
} from '../newsletter/store'
import type { SiteContent } from '../site/content'
import { suppressionOf } from '../subscribers/suppression'
import { newsletterOf } from '../ui/types'
import { broadcastIdSchema, broadcastSchema, broadcastTestSchema } from './schemas'

const admin = (summary: string, responses: Record<number, unknown>) =>
  describeRoute({
    summary,
    tags: ['broadcasts'],
    security: [{ admin: [] }],
    responses: {
      ...responses,
      400: problem('A field is invalid; each is named'),
      401: problem('No bearer token'),
      403: problem('Wrong token'),
      503: problem('ADMIN_TOKEN is not configured, or the site is not published'),
    },
  })

/** A day (midnight UTC) or a time, in epoch ms; `end` takes a day's end (the next midnight). */
const instant = (s: string | undefined, end = false) =>
  s === undefined
    ? undefined
    : /^\d{4}-\d{2}-\d{2}$/.test(s)
      ? Date.parse(`${s}T00:00:00Z`) + (end ? 86_400_000 : 0)
      : Date.parse(s)

/** One broadcast, or a 404 naming the id. */
export async function found(env: Env, id: string): Promise<Broadcast> {
  const b = await getBroadcast(env.DB, id)
  if (!b) throw new ApiError(404, { id: 'no broadcast has this id' })
  return b
}

/** Runs work after the answer where the runtime allows (waitUntil). */
type Later = (work: Promise<unknown>) => Promise<void>

/**
 * Schedules a broadcast as POST /api/admin/broadcasts (and the dashboard's form) asks: its
 * recipients taken now, each due at the given time or at their own local morning; "now" is
 * dispatched at once instead of at the next cron.
 */
export async function createBroadcast(
  env: Env,
  content: SiteContent,
  body: v.InferOutput<typeof broadcastSchema>,
  later: Later,
  now = Date.now(),
) {
  const manifest = await content.manifest(env.CONTENT)
  if (!manifest.broadcasts?.[body.path])
    throw new ApiError(400, { path: 'is not a published essay or letter the newsletter can send' })
  const seg = body.segment ?? {}
  const segment: Segment = {
    ...(seg.source !== undefined ? { source: seg.source } : {}),
    ...(seg.utm_campaign !== undefined ? { utm_campaign: seg.utm_campaign } : {}),
    ...(seg.signed_up_from !== undefined ? { signed_up_from: instant(seg.signed_up_from) } : {}),
    ...(seg.signed_up_to !== undefined ? { signed_up_to: instant(seg.signed_up_to, true) } : {}),
    ...(seg.course !== undefined ? { course: seg.course } : {}),
  }
  if (
    segment.signed_up_from !== undefined &&
    segment.signed_up_to !== undefined &&
    segment.signed_up_from >= segment.signed_up_to
  )
    throw new ApiError(400, { 'segment.signed_up_to': 'must be after segment.signed_up_from' })
  const schedule = newsletterOf(manifest.settings).schedule
  let broadcast: Broadcast
  if (body.send === 'local-morning') {
    const dueByZone = new Map<string, number>()
    for (const zone of await segmentZones(env.DB, segment)) dueByZone.set(zone, nextMorning(now, zone, schedule))
    broadcast = await scheduleBroadcast(
      env.DB,
      { path: body.path, mode: 'local-morning', sendAt: now, segment, status: 'scheduled' },
      { dueByZone },
      now,
    )
  } else {
    const at = body.send === 'now' ? now : Date.parse(body.send)
    if (at < now - 60_000) throw new ApiError(400, { send: 'is in the past' })
    broadcast = await scheduleBroadcast(
      env.DB,
      {
        path: body.path,
        mode: body.send === 'now' ? 'now' : 'at',
        sendAt: at,
        segment,
        status: at <= now ? 'sending' : 'scheduled',
      },
      { dueAt: at },
      now,
    )
  }
  if (broadcast.status === 'sending') await later(dispatchBroadcasts(env.DB, env.LESSONS, now, schedule, broadcast.id))
  return { broadcast, manifest }
}

/** Cancels what has not gone out; 409 when it is already sent or cancelled. */
export async function cancel(env: Env, content: SiteContent, id: string) {
  const b = await found(env, id)
  if (!(await cancelBroadcast(env.DB, id, Date.now())))
    throw new ApiError(409, {
      id: `is ${b.status}; only a draft, scheduled, sending or paused broadcast can be cancelled`,
    })
  return { broadcast: (await getBroadcast(env.DB, id)) as Broadcast, manifest: await content.manifest(env.CONTENT) }
}

/** Resumes a paused broadcast and dispatches what is due at once; 409 when it is not paused. */
export async function resume(env: Env, content: SiteContent, id: string, later: Later) {
  const b = await found(env, id)
  const now = Date.now()
  if (!(await resumeBroadcast(env.DB, id, now)))
    throw new ApiError(409, { id: `is ${b.status}; only a paused broadcast can be resumed` })
  const manifest = await content.manifest(env.CONTENT)
  await later(dispatchBroadcasts(env.DB, env.LESSONS, now, newsletterOf(manifest.settings).schedule, id))
  return { broadcast: (await getBroadcast(env.DB, id)) as Broadcast, manifest }
}

/** The broadcast's email as a reader gets it, with sample values and example links (for previews and tests). */
export async function sampleEmail(env: Env, content: SiteContent, b: Broadcast, to: string, now = Date.now()) {
  const manifest = await content.manifest(env.CONTENT)
  const entry = manifest.broadcasts?.[b.path]
  if (!entry) throw new ApiError(409, { id: `${b.path} is no longer published` })
  const setup = mailSetup(env, manifest.settings)
  if (!setup.ok) throw new ApiError(503, setup.problem)
  const template = await content.template(env.CONTENT, entry)
  const example = `${setup.origin}/test-link`
  const email = await renderBroadcast(
    { db: env.DB, settings: manifest.settings, ...setup },
    { ...template, subject: `[Test] ${template.subject}` },
    b,
    { id: 'test', email: to, first_name: 'Test' },
    now,
    { unsubscribe: `${example}/unsubscribe`, preferences: `${example}/preferences`, click: 'sample' },
  )
  return { email, mailer: setup.mailer }
}

/** Sends the broadcast, as a reader gets it, to one address; never to a suppressed one. */
export async function testSend(env: Env, content: SiteContent, id: string, to: string) {
  const b = await found(env, id)
  const suppressed = await suppressionOf(env.DB, to)
  if (suppressed) throw new ApiError(409, { to: `is suppressed (${suppressed}) and is never mailed again` })
  const { email, mailer } = await sampleEmail(env, content, b, to)
  const [outcome] = await mailer.sendEach([{ email, idempotencyKey: `test-${crypto.randomUUID()}` }])
  if (!outcome?.ok) throw new ApiError(502, outcome?.error.message ?? 'the provider did not answer')
  return { id: outcome.id, subject: email.subject }
}

/** The marketers' broadcasts under /api/admin/broadcasts, behind the admin token. */
export function broadcastRoutes(content: SiteContent) {
  const app = new Hono<{ Bindings: Env }>()

  /** Every published essay or letter never sent is a draft; the list shows them first. */
  const withDrafts = async (env: Env) => {
    const manifest = await content.manifest(env.CONTENT)
    await syncDrafts(env.DB, Object.keys(manifest.broadcasts ?? {}), Date.now())
    return manifest
  }

  app.get(
    '/api/admin/broadcasts',
    admin('Every broadcast, drafts included, newest first', { 200: json('{"broadcasts": [...]}') }),
    async (c) => {
      const manifest = await withDrafts(c.env)
      const all = await listBroadcasts(c.env.DB)
      // A draft of an essay that is no longer published is not offered.
      const shown = all.filter((b) => b.status !== 'draft' || manifest.broadcasts?.[b.path])
      return c.json({ broadcasts: shown.map((b) => presentBroadcast(b, manifest)) })
    },
  )

  app.post(
    '/api/admin/broadcasts',
    admin('Schedule a published essay or letter: now, at a time, or at each reader\u2019s local morning', {
      201: json('The broadcast: id, status, recipients'),
    }),
    validate('json', broadcastSchema),
    async (c) => {
      const { broadcast, manifest } = await createBroadcast(c.env, content, c.req.valid('json'), afterAnswer(c))
      return c.json(presentBroadcast(broadcast, manifest), 201)
    },
  )

  app.get(
    '/api/admin/broadcasts/:id',
    admin('One broadcast and its progress', { 200: json('The broadcast'), 404: problem('No such broadcast') }),
    validate('param', broadcastIdSchema),
    async (c) => {
      const manifest = await content.manifest(c.env.CONTENT)
      return c.json(presentBroadcast(await found(c.env, c.req.valid('param').id), manifest))
    },
  )

  app.post(
    '/api/admin/broadcasts/:id/cancel',
    admin('Stop what has not gone out', {
      200: json('The broadcast, cancelled'),
      404: problem('No such broadcast'),
      409: problem('Already sent or cancelled'),
    }),
    validate('param', broadcastIdSchema),
    async (c) => {
      const { broadcast, manifest } = await cancel(c.env, content, c.req.valid('param').id)
      return c.json(presentBroadcast(broadcast, manifest))
    },
  )

  app.post(
    '/api/admin/broadcasts/:id/resume',
    admin('Resume a paused broadcast (the guard counts only complaints and bounces after this)', {
      200: json('The broadcast, sending again'),
      404: problem('No such broadcast'),
      409: problem('Not paused'),
    }),
    validate('param', broadcastIdSchema),
    async (c) => {
      const { broadcast, manifest } = await resume(c.env, content, c.req.valid('param').id, afterAnswer(c))
      return c.json(presentBroadcast(broadcast, manifest))
    },
  )

  app.post(
    '/api/admin/broadcasts/:id/test',
    admin('Send it, as a reader gets it, to one address ("[Test]" before the subject)', {
      202: json('Sent'),
      404: problem('No such broadcast'),
      409: problem('The address is suppressed'),
      502: problem('The provider refused'),
    }),
    validate('param', broadcastIdSchema),
    validate('json', broadcastTestSchema),
    async (c) => {
      const sent = await testSend(c.env, content, c.req.valid('param').id, c.req.valid('json').to)
      return c.json({ sent: true, ...sent }, 202)
    },
  )

  return app
}
