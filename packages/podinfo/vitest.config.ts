import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Self-contained so the package tests run without the repository's root config:
//   node_modules/.bin/vitest run --config packages/podinfo/vitest.config.ts
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    name: 'podinfo',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
