import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['./src/polyfill.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real TCP nodes; on a 2-core machine running many
    // such files at once only makes every one of them slower.
    maxWorkers: 2,
    reporters: ['default', './test/reporters/summary.ts']
  }
})
