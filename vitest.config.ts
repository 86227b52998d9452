import { readFileSync } from 'node:fs'
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

/**
 * Every secret a developer may keep in .dev.vars (the names .dev.vars.example lists), blanked: a
 * developer's .dev.vars must not reach the tests (a real RESEND_API_KEY would send mail, an
 * ADMIN_TOKEN would change what the admin answers). Tests set what they need.
 */
const blankSecrets = Object.fromEntries(
  [...readFileSync(new URL('.dev.vars.example', import.meta.url), 'utf8').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map(
    (m) => [m[1], ''],
  ),
)

/** The Worker inside workerd with miniflare's real KV, D1, Queues and rate limiter. */
const workerProject = (
  name: string,
  include: string[],
  exclude: string[],
  extra: (inject: (k: 'resendUrl' | 'hookUrl') => string) => Record<string, string>,
  /** The Worker the queues deliver to, when a test needs other settings than production's. */
  main?: string,
  /** False when the files share something a parallel file would disturb (the chaos server's faults). */
  fileParallelism = true,
) => ({
  plugins: [
    cloudflareTest(async ({ inject }) => ({
      wrangler: { configPath: './wrangler.toml' },
      ...(main ? { main } : {}),
      miniflare: {
        bindings: {
          ...blankSecrets,
          ENVIRONMENT: 'local',
          MAIL_REQUESTS_PER_SECOND: '1000',
          SIGNING_KEY: 'test-signing-key-not-a-secret',
          PUBLIC_URL: 'http://localhost',
          // Every test Worker tells a local endpoint about subscriber events, as a marketer's would be told.
          WEBHOOK_URL: `${(inject as (k: 'hookUrl') => string)('hookUrl')}/hook`,
          WEBHOOK_SECRET: 'whsec_dGVzdGtleQ==',
          TEST_MIGRATIONS: await readD1Migrations('./migrations'),
          ...extra(inject as (k: 'resendUrl' | 'hookUrl') => string),
        },
      },
    })),
  ],
  test: {
    name,
    include,
    exclude,
    fileParallelism,
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/apply-migrations.ts'],
  },
})

export default defineConfig({
  test: {
    projects: [
      // Mail goes to the D1 outbox, as on a local run without RESEND_API_KEY.
      workerProject(
        'worker',
        ['test/**/*.test.ts'],
        ['test/content/**', 'test/node/**', 'test/chaos/**', 'test/e2e/**'],
        () => ({}),
      ),
      // Mail goes through the resend SDK to a local Resend-speaking server that fails on purpose.
      workerProject(
        'chaos',
        ['test/chaos/**/*.test.ts'],
        [],
        (inject) => ({
          RESEND_API_KEY: 're_test_not_a_real_key',
          RESEND_BASE_URL: inject('resendUrl'),
        }),
        './test/chaos/worker.ts',
        // One Resend-speaking server, whose faults each file sets: one file at a time.
        false,
      ),
      {
        // Build-time checks of every content file and email, in Node where the build runs.
        test: { name: 'content', include: ['test/content/**/*.test.ts'], environment: 'node' },
      },
      {
        // Node-side test tools (the local Resend-speaking server).
        test: { name: 'node', include: ['test/node/**/*.test.ts'], environment: 'node' },
      },
    ],
  },
})
