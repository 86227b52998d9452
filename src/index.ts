import { applyRetention } from './admin/retention'
import { createApp } from './app'
import { dispatchDueLessons } from './course/dispatch'
import { relayOutbox, ring } from './mail/relay'
import { dispatchBroadcasts } from './newsletter/dispatch'
import { consumeQueue } from './queues'
import { siteContent } from './site/content'
import { lifecycleOf } from './subscribers/lifecycle'
import { applySunset, SUNSET_HOUR_UTC } from './subscribers/sunset'
import { newsletterOf } from './ui/types'

// One set of isolate caches, shared by requests and queue batches.
const content = siteContent({ manifestTtlMs: 5_000, blobCacheBytes: 8 << 20 })
// Built on the first request, not at startup: an isolate woken for a cron tick or a queue batch
// never needs the routes, and startup CPU is what every cold isolate pays.
let app: ReturnType<typeof createApp> | undefined

export default {
  fetch: (request, env, ctx) => {
    app ??= createApp(content)
    return app.fetch(request, env, ctx)
  },

  // The cron's scheduledTime is "now": tests and `wrangler dev --test-scheduled` can travel in time.
  async scheduled(controller, env, ctx) {
    const now = controller.scheduledTime
    ctx.waitUntil(
      Promise.all([
        dispatchDueLessons(env.DB, env.LESSONS, now).then((r) =>
          console.log(`cron: queued ${r.subscribers} lesson(s) in ${r.messages} batch(es)`),
        ),
        // Broadcasts due by now (each reader's local morning is computed from the published settings).
        content
          .manifest(env.CONTENT)
          .then((m) => dispatchBroadcasts(env.DB, env.LESSONS, now, newsletterOf(m.settings).schedule))
          .then((r) => {
            if (r.recipients > 0) console.log(`cron: queued ${r.recipients} broadcast email(s)`)
            if (r.paused.length > 0) console.error(`cron: the guard paused ${r.paused.join(', ')}`)
          }),
        // Once a day, the sunset policy (when content/site.json turns it on).
        new Date(now).getUTCHours() === SUNSET_HOUR_UTC && new Date(now).getUTCMinutes() < 5
          ? content
              .manifest(env.CONTENT)
              .then((m) => applySunset(lifecycleOf(env), m.settings, now))
              .then(async (r) => {
                await ring(env.DB, env.MAIL, r.outbox)
                if (r.asked + r.sunset + r.stayed > 0)
                  console.log(`cron: sunset asked ${r.asked}, kept ${r.stayed}, unsubscribed ${r.sunset}`)
              })
          : Promise.resolve(),
        // Once a day, compaction and the raw history's retention period (counters stay).
        new Date(now).getUTCHours() === SUNSET_HOUR_UTC && new Date(now).getUTCMinutes() < 5
          ? content
              .manifest(env.CONTENT)
              .then((m) => applyRetention(env.DB, m.settings, now))
              .then((r) => console.log(`cron: retention ${JSON.stringify(r)}`))
          : Promise.resolve(),
        // The outbox's relay: jobs whose doorbell failed (the queue refused, the Worker stopped).
        relayOutbox(env.DB, env.MAIL, now).then((n) => n > 0 && console.log(`cron: relayed ${n} outbox job(s)`)),
      ]),
    )
  },

  queue: (batch, env) => consumeQueue(batch, env, content, Date.now),
} satisfies ExportedHandler<Env>
