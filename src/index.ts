import { createApp } from './app'
import { dispatchDueLessons, type LessonJob } from './course/dispatch'
import { consumeLessons, keepDeadLetters } from './course/queue'
import { siteContent } from './site/content'
import { consumeMail, type MailJob } from './subscribers/mail-queue'

// One set of isolate caches, shared by requests and queue batches.
const content = siteContent({ manifestTtlMs: 5_000, blobCacheBytes: 8 << 20 })
const app = createApp(content)

export default {
  fetch: app.fetch,

  // The cron's scheduledTime is "now": tests and `wrangler dev --test-scheduled` can travel in time.
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(
      dispatchDueLessons(env.DB, env.LESSONS as Queue<LessonJob>, controller.scheduledTime).then((r) =>
        console.log(`cron: queued ${r.subscribers} lesson(s) in ${r.messages} batch(es)`),
      ),
    )
  },

  async queue(batch, env) {
    if (batch.queue.endsWith('-dlq')) return keepDeadLetters(batch, env, Date.now())
    if (batch.queue === 'spine-exercises-lessons')
      return consumeLessons(batch as MessageBatch<LessonJob>, env, content, Date.now)
    return consumeMail(batch as MessageBatch<MailJob>, env, content, Date.now())
  },
} satisfies ExportedHandler<Env>
