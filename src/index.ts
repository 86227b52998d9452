import { createApp } from './app'
import { siteContent } from './site/content'
import { consumeMail } from './subscribers/mail-queue'
import type { ConfirmationJob } from './subscribers/signup'

// One set of isolate caches, shared by requests and queue batches.
const content = siteContent({ manifestTtlMs: 5_000, blobCacheBytes: 8 << 20 })
const app = createApp(content)

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    await consumeMail(batch as MessageBatch<ConfirmationJob>, env, content, Date.now())
  },
} satisfies ExportedHandler<Env>
