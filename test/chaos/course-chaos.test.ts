import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import worker from '../../src/index'
import { lessonsDrained, makeActiveSubscribers, publish } from '../helpers'
import { resendControl } from '../support/resend-control'

const resendUrl = inject('resendUrl')
const resend = resendControl(resendUrl)
const DAY = 86_400_000
const SUBSCRIBERS = 2000
const LESSONS = 5

beforeAll(async () => {
  await publish(inject('siteBuild'))
  await resend.reset()
})

async function cronAt(scheduledTime: number) {
  const ctx = createExecutionContext()
  await worker.scheduled(createScheduledController({ scheduledTime }), env, ctx)
  await waitOnExecutionContext(ctx)
}

describe('the whole course against a Resend that fails a fifth of its calls', () => {
  it('delivers every lesson to every subscriber exactly once', async () => {
    const start = Date.now()
    const ids = await makeActiveSubscribers(SUBSCRIBERS, { prefix: 'chaos', dueAt: start })
    // 429s, 500s and answers lost after Resend accepted the emails (the case that tempts a double send).
    await resend.setFaults({
      rate429: 0.07,
      rate500: 0.07,
      rateDrop: 0.06,
      dropAfterAccept: true,
      retryAfterSeconds: 0,
      seed: 7,
    })
    // The lessons sent, noted after each run: the daily retention (04:00 UTC, should a run fall
    // then) deletes the rows of lessons sent over three days before.
    const sent = new Map<string, number>()
    const look = async () => {
      const { results } = await env.DB.prepare(
        `SELECT subscriber_id, lesson FROM deliveries WHERE status = 'sent'`,
      ).all<{ subscriber_id: string; lesson: number }>()
      for (const r of results) sent.set(`${r.subscriber_id}:${r.lesson}`, r.lesson)
    }
    for (let round = 0; round < LESSONS; round++) {
      await cronAt(start + round * 10 * DAY)
      await lessonsDrained()
      await look()
    }
    // The closing emails go through the MAIL queue, retried the same way. Polled by the server's
    // counters: the list of accepted emails is some 100 MB by now, too much to fetch 20 times a second.
    for (let i = 0; i < 600; i++) {
      // Only this file's emails: another file's retries may still reach the shared server.
      const { acceptedByType: t } = await resend.stats()
      if ((t.lesson ?? 0) + (t.completion ?? 0) >= SUBSCRIBERS * (LESSONS + 1)) break
      await new Promise((r) => setTimeout(r, 50))
    }
    await resend.setFaults({})

    await look()
    const perLesson = [1, 2, 3, 4, 5].map((lesson) => ({
      lesson,
      n: [...sent.values()].filter((l) => l === lesson).length,
    }))
    expect(perLesson).toEqual([1, 2, 3, 4, 5].map((lesson) => ({ lesson, n: SUBSCRIBERS })))

    const emails = await resend.accepted()
    const lessonsTo = new Map<string, string[]>()
    for (const e of emails.filter((x) => x.email.tags?.some((t) => t.value === 'lesson'))) {
      const to = e.email.to[0] ?? ''
      lessonsTo.set(to, [...(lessonsTo.get(to) ?? []), e.email.tags?.find((t) => t.name === 'lesson')?.value ?? ''])
    }
    expect(lessonsTo.size).toBe(SUBSCRIBERS)
    for (const [to, lessons] of lessonsTo) expect(lessons, to).toEqual(['1', '2', '3', '4', '5'])
    const completions = emails.filter((e) => e.email.tags?.some((t) => t.value === 'completion'))
    expect(new Set(completions.map((e) => e.email.to[0])).size).toBe(SUBSCRIBERS)
    expect(completions).toHaveLength(SUBSCRIBERS)

    const statuses = await env.DB.prepare(
      `SELECT status, count(*) AS n FROM subscribers WHERE id IN (SELECT value FROM json_each(?)) GROUP BY status`,
    )
      .bind(JSON.stringify(ids))
      .all<{ status: string; n: number }>()
    expect(statuses.results).toEqual([{ status: 'completed', n: SUBSCRIBERS }])

    // The faults really happened: this is not a run where everything went through the first time.
    const stats = await resend.stats()
    expect(stats.byStatus['429']).toBeGreaterThan(0)
    expect(stats.byStatus['500']).toBeGreaterThan(0)
    expect(stats.dropped).toBeGreaterThan(0)
    console.log(`chaos: ${stats.requests} provider calls, ${JSON.stringify(stats.byStatus)}, ${stats.dropped} dropped`)
  }, 180_000)
})
