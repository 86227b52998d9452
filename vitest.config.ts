import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: [
      {
        // The Worker's behaviour, inside workerd with miniflare's real KV.
        plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.toml' } })],
        test: {
          name: 'worker',
          include: ['test/**/*.test.ts'],
          exclude: ['test/content/**'],
          globalSetup: ['test/global-setup.ts'],
        },
      },
      {
        // Build-time checks of every content file, in Node where the build runs.
        test: { name: 'content', include: ['test/content/**/*.test.ts'], environment: 'node' },
      },
    ],
  },
})
