import { defineConfig } from 'vitest/config'

// The browser walk: Node drives Debian's chromium (playwright-core) against a local wrangler dev.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
})
