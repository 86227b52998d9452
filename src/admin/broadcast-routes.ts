import { Hono } from 'hono'
import { afterAnswer } from '../lib/after-answer'
import { describeRoute, json, problem, validate } from '../lib/api'
import { ApiError } from '../lib/errors'
import { nextMorning } from '../lib/schedule'
import { mailSetup } from '../mail/config'
import { renderBroadcast } from '../newsletter/deliver'
import { dispatchBroadcasts } from '../newsletter/dispatch'
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
import type { Manifest } from '../site/manifest'
import { suppressionOf } from '../subscribers/suppression'
import { newsletterOf } from '../ui/types'
import { adminAuth } from './auth'
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

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** A broadcast as the API shows it: counts as numbers, times in ISO 8601. */
export function presentBroadcast(b: Broadcast, manifest: Manifest) {
  const info = manifest.broadcasts?.[b.path]
  return {
    id: b.id,
    path: b.path,
    title: info?.title ?? null,
    kind: info?.kind ?? null,
    status: b.status,
    send: b.send_mode === 'at' ? iso(b.send_at) : b.send_mode,
    segment: JSON.parse(b.segment) as Record<string, unknown>,
    recipients: b.recipients,
    sent: b.sent,
    skipped: b.skipped,
    failed: b.failed,
    remaining: Math.max(0, b.recipients - b.sent - b.skipped - b.failed),
    skipped_because: JSON.parse(b.skipped_because) as Record<string, number>,
    paused_reason: b.paused_reason,
    created_at: iso(b.created_at),
    scheduled_at: iso(b.scheduled_at),
    finished_at: iso(b.finished_at),
  }
}

/** A day (midnight UTC) or a time, in epoch ms; `end` takes a day's end (the next midnight). */
const instant = (s: string | undefined, end = false) =>
  s === undefined
    ? undefined
    : /^\d{4}-\d{2}-\d{2}$/.test(s)
      ? Date.parse(`${s}T00:00:00Z`) + (end ? 86_400_000 : 0)
      : Date.parse(s)

/** The marketers' broadcasts under /api/admin/broadcasts, behind the admin token. */
export function broadcastRoutes(content: SiteContent) {
  const app = new Hono<{ Bindings: Env }>()
  app.use('/api/admin/broadcasts', adminAuth)
  app.use('/api/admin/broadcasts/*', adminAuth)

  /** Every published essay or letter never sent is a draft; the list shows them first. */
  const withDrafts = async (env: Env) => {
    const manifest = await content.manifest(env.CONTENT)
    await syncDrafts(env.DB, Object.keys(manifest.broadcasts ?? {}), Date.now())
    return manifest
  }
  const found = async (env: Env, id: string) => {
    const b = await getBroadcast(env.DB, id)
    if (!b) throw new ApiError(404, { id: 'no broadcast has this id' })
    return b
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
      const body = c.req.valid('json')
      const now = Date.now()
      const manifest = await content.manifest(c.env.CONTENT)
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
      let created: Broadcast
      if (body.send === 'local-morning') {
        const dueByZone = new Map<string, number>()
        for (const zone of await segmentZones(c.env.DB, segment)) dueByZone.set(zone, nextMorning(now, zone, schedule))
        created = await scheduleBroadcast(
          c.env.DB,
          { path: body.path, mode: 'local-morning', sendAt: now, segment, status: 'scheduled' },
          { dueByZone },
          now,
        )
      } else {
        const at = body.send === 'now' ? now : Date.parse(body.send)
        if (at < now - 60_000) throw new ApiError(400, { send: 'is in the past' })
        created = await scheduleBroadcast(
          c.env.DB,
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
      // "now" goes at once, not at the next cron.
      if (created.status === 'sending')
        await afterAnswer(c)(dispatchBroadcasts(c.env.DB, c.env.LESSONS, now, schedule, created.id))
      return c.json(presentBroadcast(created, manifest), 201)
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
      const { id } = c.req.valid('param')
      const b = await found(c.env, id)
      if (!(await cancelBroadcast(c.env.DB, id, Date.now())))
        throw new ApiError(409, {
          id: `is ${b.status}; only a draft, scheduled, sending or paused broadcast can be cancelled`,
        })
      const manifest = await content.manifest(c.env.CONTENT)
      return c.json(presentBroadcast((await getBroadcast(c.env.DB, id)) as Broadcast, manifest))
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
      const { id } = c.req.valid('param')
      const b = await found(c.env, id)
      const now = Date.now()
      if (!(await resumeBroadcast(c.env.DB, id, now)))
        throw new ApiError(409, { id: `is ${b.status}; only a paused broadcast can be resumed` })
      const manifest = await content.manifest(c.env.CONTENT)
      const schedule = newsletterOf(manifest.settings).schedule
      await afterAnswer(c)(dispatchBroadcasts(c.env.DB, c.env.LESSONS, now, schedule, id))
      return c.json(presentBroadcast((await getBroadcast(c.env.DB, id)) as Broadcast, manifest))
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
      const b = await found(c.env, c.req.valid('param').id)
      const { to } = c.req.valid('json')
      const suppressed = await suppressionOf(c.env.DB, to)
      if (suppressed) throw new ApiError(409, { to: `is suppressed (${suppressed}) and is never mailed again` })
      const manifest = await content.manifest(c.env.CONTENT)
      const entry = manifest.broadcasts?.[b.path]
      if (!entry) throw new ApiError(409, { id: `${b.path} is no longer published` })
      const setup = mailSetup(c.env, manifest.settings)
      if (!setup.ok) throw new ApiError(503, setup.problem)
      const template = await content.template(c.env.CONTENT, entry)
      const ctx = { db: c.env.DB, settings: manifest.settings, ...setup }
      const example = `${setup.origin}/test-link`
      const email = await renderBroadcast(
        ctx,
        { ...template, subject: `[Test] ${template.subject}` },
        b,
        { id: 'test', email: to, first_name: 'Test' },
        Date.now(),
        { unsubscribe: `${example}/unsubscribe`, preferences: `${example}/preferences` },
      )
      const [outcome] = await setup.mailer.sendEach([{ email, idempotencyKey: `test-${crypto.randomUUID()}` }])
      if (!outcome?.ok) throw new ApiError(502, outcome?.error.message ?? 'the provider did not answer')
      return c.json({ sent: true, id: outcome.id, subject: email.subject }, 202)
    },
  )

  return app
}
