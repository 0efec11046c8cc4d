import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // 2 cores: real gateways and load tests must not starve each other.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
