import { defineConfig } from 'vitest/config';

// Each npm script writes its own JSON report; .ci/run sums them into one closing line.
const report = `test-results/${process.env['npm_lifecycle_event'] ?? 'vitest'}.json`;

export default defineConfig({
  test: {
    reporters: ['default', ['json', { outputFile: report }]],
    projects: [
      // Some unit tests start a process (the CLI, helm, promtool, lua): seconds on a loaded 2-core machine.
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000 } },
      'packages/podinfo',
      // The demo apps as real processes (loan, interest) and against a real RabbitMQ (worker).
      { test: { name: 'apps', include: ['test/apps/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 180_000 } },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/support/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // Each file starts its own controllers in its own namespaces; two at once fit two cores.
          maxWorkers: 2,
          fileParallelism: true,
        },
      },
    ],
  },
});
