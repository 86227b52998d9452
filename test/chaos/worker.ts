/**
 * The Worker as the chaos run deploys it: production's, except that failed jobs are retried at
 * once (retry base 0 s instead of 10), so hundreds of provider failures fit in a test's minute.
 */
import worker from '../../src/index'
import { consumeQueue } from '../../src/queues'
import { siteContent } from '../../src/site/content'

const content = siteContent({ manifestTtlMs: 5_000, blobCacheBytes: 8 << 20 })

export default {
  ...worker,
  queue: (batch, env) => consumeQueue(batch, env, content, Date.now, { baseSeconds: 0 }),
} satisfies ExportedHandler<Env>
