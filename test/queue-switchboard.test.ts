import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { consumeQueue } from '../src/queues'
import { siteContent } from '../src/site/content'

const content = siteContent({ manifestTtlMs: 0, blobCacheBytes: 1 << 20 })

/** Runs one batch through the switchboard; what it acked, retried, and kept as dead letters. */
async function deliver(queue: string, bodies: unknown[]) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `${queue}-${i}-${Date.now()}`, timestamp: new Date(), attempts: 1, body })),
  )
  const ctx = createExecutionContext()
  await consumeQueue(batch, env, content, Date.now)
  const result = await getQueueResult(batch, ctx)
  const kept = await env.DB.prepare('SELECT queue, body FROM dead_letters WHERE queue = ? ORDER BY id')
    .bind(`${queue}-dlq`)
    .all<{ body: string }>()
  return { result, kept: kept.results.map((r) => JSON.parse(r.body) as unknown) }
}

describe('the queue switchboard', () => {
  it('keeps a job of a kind it does not know, and a job on the wrong queue, as dead letters, and runs neither', async () => {
    const unknown = { kind: 'launch-missiles', at: 1 }
    // A lesson batch belongs on the LESSONS queue (one rate budget, max_concurrency 1), never on MAIL.
    const misrouted = { kind: 'lessons', course: 'cure-back-pain-program', pairs: [], dispatchedAt: 1 }
    const { result, kept } = await deliver('spine-exercises-mail', [unknown, misrouted, 'not even an object'])
    expect(result.retryMessages).toEqual([])
    expect(result.explicitAcks).toHaveLength(3)
    expect(kept).toEqual([unknown, misrouted, 'not even an object'])
  })
})
