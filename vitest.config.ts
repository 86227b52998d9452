import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: [
      {
        // The Worker's behaviour, inside workerd with miniflare's real KV, D1 and rate limiter.
        plugins: [
          cloudflareTest(async () => ({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                ENVIRONMENT: 'local',
                MAIL_REQUESTS_PER_SECOND: '1000',
                SIGNING_KEY: 'test-signing-key-not-a-secret',
                PUBLIC_URL: 'http://localhost',
                TEST_MIGRATIONS: await readD1Migrations('./migrations'),
              },
            },
          })),
        ],
        test: {
          name: 'worker',
          include: ['test/**/*.test.ts'],
          exclude: ['test/content/**', 'test/node/**'],
          globalSetup: ['test/global-setup.ts'],
          setupFiles: ['test/apply-migrations.ts'],
        },
      },
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
